import { randomUUID } from 'node:crypto'
import type { Kafka } from 'kafkajs'

/** What is at one offset of a topic partition. */
export type RecordAt =
  | { kind: 'found', value: Buffer | null }
  /** Below the log start (retention removed it), or compacted away. */
  | { kind: 'gone' }

/**
 * Reads the one record at `offset`: a throwaway group that never commits,
 * positioned at the offset once it has joined. Other partitions start at
 * their end, so nothing else is fetched. For support queries, not the hot
 * path: a read takes a group join (a few hundred milliseconds).
 */
export async function readRecordAt (kafka: Kafka, topic: string, partition: number, offset: bigint, timeoutMs = 15_000): Promise<RecordAt> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    const p = offsets.find((o) => o.partition === partition)
    if (p === undefined || offset < BigInt(p.low) || offset >= BigInt(p.high)) return { kind: 'gone' }
  } finally {
    await admin.disconnect()
  }
  const groupId = `whd-record-reader-${randomUUID()}`
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 })
  let timer: NodeJS.Timeout | undefined
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: false })
    return await new Promise<RecordAt>((resolve, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`reading ${topic}/${partition}@${offset} took over ${timeoutMs} ms`), { retriable: true })), timeoutMs)
      consumer.on(consumer.events.CRASH, (event) => reject(Object.assign(event.payload.error, { retriable: true })))
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition: at, message }) => {
          if (at !== partition) return
          // Past the offset: compaction or retention took the record between the check and the read.
          resolve(BigInt(message.offset) === offset ? { kind: 'found', value: message.value } : { kind: 'gone' })
        }
      }).then(() => { consumer.seek({ topic, partition, offset: offset.toString() }) }, reject)
    })
  } finally {
    clearTimeout(timer)
    await consumer.disconnect().catch(() => undefined)
    const admin2 = kafka.admin()
    await admin2.connect().then(async () => { await admin2.deleteGroups([groupId]) }).catch(() => undefined).finally(() => { void admin2.disconnect() })
  }
}
