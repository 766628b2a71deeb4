import type { Admin } from 'kafkajs'
import type { CircuitBreakers } from '../engine/circuit-breaker.js'
import type { PartitionPair } from '../engine/partition-pair.js'
import type { MetricSources } from '../metrics.js'
import type { SubscriptionSource } from '../subscriptions/types.js'

export interface RuntimeMetricState {
  sourceTopics: readonly string[]
  pairs: () => Iterable<PartitionPair>
  /** Partitions stopped at an undecodable record batch, by lane. */
  stopped: () => Iterable<'source' | 'retry'>
  subscriptions: SubscriptionSource
  breakers: CircuitBreakers
  /** Undefined before start. */
  admin: () => Admin | undefined
  now: () => number
}

type Lag = Array<{ topic: string, partition: number, lag: number }>

/** How often consumer lag is looked up at most, however often Prometheus scrapes. */
const LAG_CACHE_MS = 5000

/** What the gauges read at scrape time from the runtime's live state. */
export function runtimeMetricSources (s: RuntimeMetricState): Omit<MetricSources, 'stoppedSubscriptionPartitions' | 'quarantinedSubscriptions'> {
  const pairs = (): PartitionPair[] => [...s.pairs()]
  let lagCache: { at: number, value: Promise<Lag> } | undefined
  return {
    parkedByTopic: () => {
      const byTopic = new Map(s.sourceTopics.map((t) => [t, 0]))
      for (const pair of pairs()) byTopic.set(pair.source.topic, (byTopic.get(pair.source.topic) ?? 0) + pair.retry.heldItems)
      return byTopic
    },
    parkedWithoutBytes: () => pairs().reduce((n, p) => n + p.retry.heldWithoutBytes, 0),
    blockedKeys: () => pairs().reduce((n, p) => n + p.source.blockedKeys, 0),
    windowRecords: () => pairs().reduce((n, p) => n + p.source.windowSize, 0),
    endpointsDisabled: () => s.subscriptions.all().filter((sub) => !sub.enabled).length,
    circuitStates: () => s.breakers.countStates(s.subscriptions.all().filter((sub) => sub.enabled).map((sub) => sub.id), s.now()),
    consumerLag: () => {
      if (lagCache === undefined || s.now() - lagCache.at > LAG_CACHE_MS) lagCache = { at: s.now(), value: consumerLag(s.admin(), pairs()) }
      return lagCache.value
    },
    stoppedPartitions: () => {
      const stopped = { source: 0, retry: 0 }
      for (const lane of s.stopped()) stopped[lane]++
      return stopped
    }
  }
}

/** Committed-to-end distance of every assigned partition, source and retry. */
async function consumerLag (admin: Admin | undefined, pairs: PartitionPair[]): Promise<Lag> {
  if (admin === undefined) return []
  const lanes = pairs.flatMap((pair) => [pair.source, pair.retry].map((lane) => ({ lane, pair })))
  const topics = [...new Set(lanes.map(({ lane }) => lane.topic))]
  const ends = new Map<string, bigint>()
  await Promise.all(topics.map(async (topic) => {
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${p.partition}`, BigInt(p.high))
  }))
  return lanes.flatMap(({ lane, pair }) => {
    const end = ends.get(lane.id)
    if (end === undefined) return []
    const from = pair.committedOffset(lane.id) ?? 0n
    return [{ topic: lane.topic, partition: lane.partition, lag: Number(end > from ? end - from : 0n) }]
  })
}
