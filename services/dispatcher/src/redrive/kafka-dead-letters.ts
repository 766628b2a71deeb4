import { randomUUID } from 'node:crypto'
import type { CompressionTypes, Kafka } from 'kafkajs'
import { undecodableBatchOf } from '../../../events/src/index.js'
import { UndecodableBatchError } from '../errors.js'
import { toDeadLetter, type DeadLetter, type DeadLetterOperations } from '../dead-letters/view.js'
import { matchesFilter, summarizeDeadLetter, type RedriveFilter } from '../dead-letters/filter.js'
import { redrive } from './run.js'

export interface KafkaDeadLettersOptions {
  kafka: Kafka
  deadLetterTopic: string
  retryTopicSuffix: string
  /** Codec of the retry records a redrive writes (KAFKA_COMPRESSION). */
  compression: CompressionTypes
}

/** The admin API's dead-letter operations on the dead-letter topic. */
export function createKafkaDeadLetters ({ kafka, deadLetterTopic, retryTopicSuffix, compression }: KafkaDeadLettersOptions): DeadLetterOperations {
  return {
    list: (filter, limit) => listDeadLetters(kafka, deadLetterTopic, filter, limit),
    redrive: (filter, dryRun) => redrive({ kafka, deadLetterTopic, retryTopicSuffix, compression, filter, dryRun })
  }
}

/**
 * Up to `limit` matching dead letters, oldest first per partition: reads the
 * topic from its start to the end offsets captured now, with a throwaway
 * group that never commits.
 */
async function listDeadLetters (kafka: Kafka, topic: string, filter: RedriveFilter, limit: number): Promise<DeadLetter[]> {
  const admin = kafka.admin()
  await admin.connect()
  let ends: Map<number, bigint>
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    ends = new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]))
  } finally {
    await admin.disconnect()
  }
  if (ends.size === 0) return []
  const groupId = `whd-dead-letter-list-${randomUUID()}`
  const consumer = kafka.consumer({ groupId })
  const letters: DeadLetter[] = []
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error))
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const end = ends.get(partition)
          if (end === undefined) return
          const offset = BigInt(message.offset)
          const undecodable = undecodableBatchOf(message)
          if (undecodable !== undefined && offset < end) {
            reject(new UndecodableBatchError({ topic, partition, offset: message.offset }, undecodable))
            return
          }
          if (offset < end && letters.length < limit && matchesFilter(summarizeDeadLetter(message), filter)) {
            letters.push(toDeadLetter(message, topic, partition))
          }
          if (offset + 1n >= end) ends.delete(partition)
          if (ends.size === 0 || letters.length >= limit) resolve()
        }
      }).catch(reject)
    })
  } finally {
    await consumer.disconnect()
    const admin2 = kafka.admin()
    await admin2.connect().then(() => admin2.deleteGroups([groupId])).catch(() => undefined).finally(() => admin2.disconnect())
  }
  return letters
}
