// Where a replay's time range sits on the source topics: Kafka's
// offsetsForTimes (kafkajs fetchTopicOffsetsByTimestamp) per partition for
// `since` and `until`, and the time of the oldest record retention has left,
// so a range reaching before it is refused instead of silently shortened.
import { randomUUID } from 'node:crypto'
import type { Admin, Kafka } from 'kafkajs'
import type { ReplayRange } from '../engine/replay-job.js'

/**
 * Per source partition: from the first offset whose timestamp is at or after
 * `since` to the first at or after `until` (exclusive); a time after every
 * record maps to the end the partition has now.
 */
export async function replayRanges (admin: Admin, topics: readonly string[], since: number, until: number): Promise<ReplayRange[]> {
  const ranges: ReplayRange[] = []
  for (const topic of topics) {
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, since)
    const ends = new Map((await admin.fetchTopicOffsetsByTimestamp(topic, until)).map((p) => [p.partition, p.offset]))
    for (const { partition, offset } of starts.sort((a, b) => a.partition - b.partition)) {
      const end = ends.get(partition) ?? offset
      ranges.push({ topic, partition, start: offset, end, next: offset })
    }
  }
  return ranges
}

/**
 * The timestamp of the oldest record still on the topics, over the
 * partitions that retention (or deleteRecords) has trimmed; undefined when
 * none has been (every record since the topic began is there).
 */
export async function earliestRetained (kafka: Kafka, admin: Admin, topics: readonly string[], timeoutMs = 15_000): Promise<number | undefined> {
  let earliest: number | undefined
  for (const topic of topics) {
    const trimmed = (await admin.fetchTopicOffsets(topic)).filter((p) => BigInt(p.low) > 0n && BigInt(p.high) > BigInt(p.low))
    if (trimmed.length === 0) continue
    const times = await firstTimestamps(kafka, topic, new Map(trimmed.map((p) => [p.partition, p.low])), timeoutMs)
    for (const t of times.values()) earliest = earliest === undefined ? t : Math.min(earliest, t)
  }
  return earliest
}

/** The timestamps of the records at the given offsets, one partition each: a throwaway group that never commits. */
async function firstTimestamps (kafka: Kafka, topic: string, offsets: Map<number, string>, timeoutMs: number): Promise<Map<number, number>> {
  const groupId = `whd-replay-retention-${randomUUID()}`
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 })
  const found = new Map<number, number>()
  let timer: NodeJS.Timeout | undefined
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`reading the oldest records of ${topic} took over ${timeoutMs} ms`), { retriable: true })), timeoutMs)
      consumer.on(consumer.events.CRASH, (event) => reject(Object.assign(event.payload.error, { retriable: true })))
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (!offsets.has(partition) || found.has(partition)) return
          found.set(partition, Number(message.timestamp))
          if (found.size === offsets.size) resolve()
        }
      }).then(() => {
        for (const [partition, offset] of offsets) consumer.seek({ topic, partition, offset })
      }, reject)
    })
  } finally {
    clearTimeout(timer)
    await consumer.disconnect().catch(() => undefined)
    const admin = kafka.admin()
    await admin.connect().then(async () => { await admin.deleteGroups([groupId]) }).catch(() => undefined).finally(() => { void admin.disconnect() })
  }
  return found
}
