import { randomUUID } from 'node:crypto'
import type { KafkaMessage, Kafka } from 'kafkajs'
import { undecodableBatchOf } from '../../../events/src/index.js'
import { UndecodableBatchError } from '../errors.js'

/**
 * Reads topics from their start up to the end offsets captured now, handing
 * each record to `onMessage` in log order per partition, with a throwaway
 * consumer group that never commits and is deleted afterwards. A topic that
 * does not exist reads as empty. `onMessage` returning `'stop'` ends the
 * scan early.
 */
export async function scanToEnd (
  kafka: Kafka,
  topics: readonly string[],
  onMessage: (topic: string, partition: number, message: KafkaMessage) => 'stop' | undefined,
  groupPrefix = 'whd-scan'
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  const ends = new Map<string, bigint>()
  const present: string[] = []
  try {
    const existing = new Set(await admin.listTopics())
    for (const topic of topics) {
      if (!existing.has(topic)) continue
      present.push(topic)
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}:${p.partition}`, BigInt(p.high))
      }
    }
  } finally {
    await admin.disconnect()
  }
  if (ends.size === 0) return
  const groupId = `${groupPrefix}-${randomUUID()}`
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, retry: { retries: 5, restartOnFailure: async () => false } })
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: present, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (event) => { reject(event.payload.error) })
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const key = `${topic}:${partition}`
          const end = ends.get(key)
          if (end === undefined) return
          const offset = BigInt(message.offset)
          if (offset >= end) return
          const undecodable = undecodableBatchOf(message)
          if (undecodable !== undefined) {
            reject(new UndecodableBatchError({ topic, partition, offset: message.offset }, undecodable))
            return
          }
          if (onMessage(topic, partition, message) === 'stop') {
            resolve()
            return
          }
          if (offset + 1n >= end) ends.delete(key)
          if (ends.size === 0) resolve()
        }
      }).catch(reject)
    })
  } finally {
    await consumer.disconnect()
    const cleanup = kafka.admin()
    await cleanup.connect().then(async () => { await cleanup.deleteGroups([groupId]) }).catch(() => undefined).finally(async () => { await cleanup.disconnect() })
  }
}
