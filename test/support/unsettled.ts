import type { EventCodec } from '../../services/events/src/index.js'
import { H } from '../../services/dispatcher/src/engine/parked-record.js'
import { readTopic } from './dead-letters.js'
import { groupLag } from './group-offsets.js'

/**
 * The events of the records at or past a consumer group's committed offset
 * on each partition of `topics` (from the log start where it committed
 * none), as the topics stand now. After a dispatcher is killed these are
 * what it had not settled, and C4 lets its successor deliver again only
 * them. Retry records carry the source record's bytes, so one decode serves
 * both lanes; handover markers carry no event and are left out.
 */
export async function eventIdsPastCommit (group: string, topics: readonly string[], codec: EventCodec): Promise<Set<string>> {
  const ids = new Set<string>()
  for (const topic of topics) {
    const { partitions } = await groupLag(group, topic)
    const from = new Map(partitions.map((p) => [p.partition, p.committed ?? p.low]))
    for (const record of await readTopic(topic)) {
      if (record.offset < (from.get(record.partition) ?? 0n) || record.headers[H.handover] !== undefined || record.value === null) continue
      ids.add((await codec.decode(record.value)).event.eventId)
    }
  }
  return ids
}

/** How many records a group has committed past on a topic: the sum over partitions of committed offset minus log start. */
export async function committedRecords (group: string, topic: string, { brokers }: { brokers?: string[] } = {}): Promise<number> {
  const { partitions } = await groupLag(group, topic, { brokers })
  return Number(partitions.reduce((sum, p) => sum + ((p.committed ?? p.low) - p.low), 0n))
}
