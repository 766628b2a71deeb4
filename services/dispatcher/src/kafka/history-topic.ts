import type { Admin } from 'kafkajs'
import { retryRetriable } from '../retriable.js'

/**
 * Creates the attempts topic when it is missing: keyed by event id, deleted
 * (not compacted) after its retention, since every record is its own fact.
 * An existing topic is left as an operator configured it.
 */
export async function ensureAttemptsTopic (admin: Admin, o: { topic: string, partitions: number, retentionHours: number, replicationFactor: number }): Promise<boolean> {
  const existing = await admin.listTopics()
  if (existing.includes(o.topic)) return false
  await retryRetriable(() => admin.createTopics({
    topics: [{
      topic: o.topic,
      numPartitions: o.partitions,
      replicationFactor: o.replicationFactor,
      configEntries: [
        { name: 'cleanup.policy', value: 'delete' },
        { name: 'retention.ms', value: String(o.retentionHours * 3_600_000) }
      ]
    }],
    waitForLeaders: true
  }))
  return true
}
