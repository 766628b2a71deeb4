import { testKafka } from './kafka.js'

/** One partition of a topic as a consumer group sees it. */
export interface PartitionLag {
  partition: number
  /** The log start offset. */
  low: bigint
  /** The end offset (next offset to be written). */
  end: bigint
  /** The group's committed offset, undefined when it committed none. */
  committed: bigint | undefined
  /** Records between what the group committed (or the log start) and the end. */
  lag: bigint
}

export interface TopicLag {
  partitions: PartitionLag[]
  /** Sum of the partitions' lag. */
  total: number
  /** Whether the group committed an offset on any partition of the topic. */
  committedAny: boolean
}

/**
 * A consumer group's lag on one topic, read as Kafka's tools read it: end
 * offset minus committed offset per partition (kafkajs admin
 * `fetchTopicOffsets` and `fetchOffsets`). A partition without a commit
 * counts from its log start.
 */
export async function groupLag (group: string, topic: string, { brokers }: { brokers?: string[] } = {}): Promise<TopicLag> {
  const kafka = await testKafka('test-lag', brokers)
  const admin = kafka.admin()
  await admin.connect()
  try {
    const ends = await admin.fetchTopicOffsets(topic)
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]))
    const partitions = ends.map((p): PartitionLag => {
      const raw = byPartition.get(p.partition)
      const offset = raw === undefined || raw === '-1' ? undefined : BigInt(raw)
      const end = BigInt(p.high)
      const low = BigInt(p.low)
      return { partition: p.partition, low, end, committed: offset, lag: end - (offset ?? low) }
    }).sort((a, b) => a.partition - b.partition)
    return {
      partitions,
      total: Number(partitions.reduce((sum, p) => sum + p.lag, 0n)),
      committedAny: partitions.some((p) => p.committed !== undefined)
    }
  } finally {
    await admin.disconnect()
  }
}

/** Deletes topics a test's dispatchers created (retry topics, say); topics that do not exist are fine. */
export async function deleteTopicsIfPresent (topics: string[], { brokers }: { brokers?: string[] } = {}): Promise<void> {
  const kafka = await testKafka('test-admin', brokers)
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const present = topics.filter((t) => existing.has(t))
    if (present.length > 0) await admin.deleteTopics({ topics: present })
  } finally {
    await admin.disconnect()
  }
}
