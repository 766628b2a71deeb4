/**
 * Creates the source topics when missing and reports what exists. An
 * existing topic is never altered: its partition count decides where keys
 * land, so changing it is an operator's decision, not a side effect.
 */
import type { Admin } from 'kafkajs'
import { retryRetriable, sourceLayout, type FamilyName } from '../../events/src/index.js'

/** Partitions of a banking source topic unless told otherwise. */
export const DEFAULT_PARTITIONS = 12

export interface TopicSpec {
  topic: string
  /**
   * Partitions when creating the topic.
   * @defaultValue 12
   */
  numPartitions?: number
  /**
   * Replication factor when creating the topic.
   * @defaultValue the broker's default.replication.factor
   */
  replicationFactor?: number
  /** Topic configs when creating it, e.g. `{ 'min.insync.replicas': '2' }`. */
  configs?: Record<string, string>
}

export interface TopicReport {
  topic: string
  /** False when the topic already existed (possibly created concurrently). */
  created: boolean
  /** Actual partition count. */
  numPartitions: number
  /** Partition count the spec asked for. */
  requestedPartitions: number
}

/**
 * Specs for the banking source topics: the one topic every family shares
 * (`topic`, default `banking.account-events.v1`), or with `topics` the
 * three-topic layout, as {@link createBankingProducer} resolves them.
 */
export function bankingTopicSpecs (options: {
  topic?: string
  topics?: Partial<Record<FamilyName, string>>
  numPartitions?: number
  replicationFactor?: number
  configs?: Record<string, string>
} = {}): TopicSpec[] {
  const { topics } = sourceLayout({
    ...(options.topic === undefined ? {} : { topic: options.topic }),
    ...(options.topics === undefined ? {} : { topics: options.topics })
  })
  return [...new Set(Object.values(topics))].map((topic) => ({
    topic,
    numPartitions: options.numPartitions ?? DEFAULT_PARTITIONS,
    ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }),
    ...(options.configs === undefined ? {} : { configs: options.configs })
  }))
}

/** Creates the missing topics (waiting for leaders) and reports every one. */
export async function ensureTopics (admin: Admin, specs: readonly TopicSpec[]): Promise<TopicReport[]> {
  for (const spec of specs) {
    if (spec.numPartitions !== undefined && (!Number.isInteger(spec.numPartitions) || spec.numPartitions < 1)) {
      throw new RangeError(`numPartitions of ${spec.topic} must be a positive integer, got ${spec.numPartitions}`)
    }
  }
  const existing = new Set(await admin.listTopics())
  const created = new Set<string>()
  for (const spec of specs) {
    if (existing.has(spec.topic)) continue
    // One request per topic: kafkajs answers `false` only when every topic
    // of a request already exists, so a concurrent creator of one topic
    // would fail a combined request.
    const didCreate = await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic: spec.topic,
        numPartitions: spec.numPartitions ?? DEFAULT_PARTITIONS,
        ...(spec.replicationFactor === undefined ? {} : { replicationFactor: spec.replicationFactor }),
        configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value }))
      }]
    })
    if (didCreate) created.add(spec.topic)
  }
  // A topic created a moment ago may not have reached the broker that answers yet.
  const { topics } = await retryRetriable(() => admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) }))
  const partitions = new Map(topics.map((topic) => [topic.name, topic.partitions.length]))
  return specs.map((spec) => ({
    topic: spec.topic,
    created: created.has(spec.topic),
    numPartitions: partitions.get(spec.topic) ?? 0,
    requestedPartitions: spec.numPartitions ?? DEFAULT_PARTITIONS
  }))
}
