import type { Admin } from 'kafkajs'
import { retryTopicOf, type DispatcherConfig } from '../config.js'
import { ConfigError, TopicLayoutError } from '../errors.js'
import { STATE_TOPIC_CONFIG } from '../dead-letters/lifecycle.js'
import { retryRetriable } from '../retriable.js'

/** What a start-up check found and did. */
export interface TopicBootstrapReport {
  created: string[]
  partitionsBySource: Record<string, number>
}

/**
 * Makes sure every topic the dispatcher writes to exists with the right
 * shape: each source topic's retry topic with the same partition count
 * (co-partitioning is what keeps a key's state on one member), and the
 * dead-letter topic. Refuses to start, naming the topic, when a source topic
 * is missing or an existing retry topic's partition count differs.
 */
export async function bootstrapTopics (
  admin: Admin,
  config: Pick<DispatcherConfig, 'sourceTopics' | 'retryTopicSuffix' | 'deadLetterTopic'> & Partial<Pick<DispatcherConfig, 'endpointEventsTopic' | 'subscriptionsTopic' | 'deadLetterStateTopic'>>,
  { replicationFactor = -1, deadLetterPartitions = 6 }: { replicationFactor?: number, deadLetterPartitions?: number } = {}
): Promise<TopicBootstrapReport> {
  const retryTopics = config.sourceTopics.map((t) => retryTopicOf(config, t))
  const existing = new Set(await admin.listTopics())
  await waitForSourceTopics(admin, config.sourceTopics, existing)
  const metadata = await retryRetriable(() => admin.fetchTopicMetadata({ topics: [...config.sourceTopics, ...retryTopics, config.deadLetterTopic].filter((t) => existing.has(t)) }))
  // Checked before anything is created: Kafka's own answer is a bare
  // "Topic creation errors" (INVALID_REPLICATION_FACTOR) after kafkajs's
  // retries, and may come after some topics were made.
  const toBeMade = [...retryTopics, config.deadLetterTopic, config.endpointEventsTopic, config.subscriptionsTopic]
    .filter((t): t is string => t !== undefined && !existing.has(t))
  if (toBeMade.length > 0 && replicationFactor > 0) {
    const problem = replicationProblem(replicationFactor, (await admin.describeCluster()).brokers.length, toBeMade[0] as string)
    if (problem !== undefined) throw new ConfigError('TOPIC_REPLICATION_FACTOR', problem)
  }
  if (config.endpointEventsTopic !== undefined && !existing.has(config.endpointEventsTopic)) {
    existing.add(config.endpointEventsTopic)
    await retryRetriable(() => admin.createTopics({ topics: [{ topic: config.endpointEventsTopic as string, numPartitions: 1, replicationFactor }], waitForLeaders: true }))
  }
  const partitions = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]))

  const partitionsBySource: Record<string, number> = {}
  const toCreate: Array<{ topic: string, numPartitions: number, replicationFactor: number, configEntries?: Array<{ name: string, value: string }> }> = []
  for (const source of config.sourceTopics) {
    const sourceCount = partitions.get(source)
    if (sourceCount === undefined) throw new TopicLayoutError(source, 'source topic does not exist (create it, e.g. with the producer library\'s ensureTopics)')
    partitionsBySource[source] = sourceCount
    const retry = retryTopicOf(config, source)
    const retryCount = partitions.get(retry)
    if (retryCount === undefined) {
      toCreate.push({ topic: retry, numPartitions: sourceCount, replicationFactor })
    } else if (retryCount !== sourceCount) {
      throw new TopicLayoutError(retry, `has ${retryCount} partitions but its source topic "${source}" has ${sourceCount}; they must match`)
    }
  }
  if (!partitions.has(config.deadLetterTopic)) {
    toCreate.push({
      topic: config.deadLetterTopic,
      numPartitions: deadLetterPartitions,
      replicationFactor,
      // Dead letters wait for an operator: keep them long.
      configEntries: [{ name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) }]
    })
  }
  // One partition: the locks of concurrent redrives need one order.
  if (config.deadLetterStateTopic !== undefined && !existing.has(config.deadLetterStateTopic)) {
    toCreate.push({ topic: config.deadLetterStateTopic, numPartitions: 1, replicationFactor, configEntries: STATE_TOPIC_CONFIG.map((entry) => ({ ...entry })) })
  }
  if (toCreate.length > 0) {
    await retryRetriable(() => admin.createTopics({ topics: toCreate, waitForLeaders: true }))
  }
  return { created: toCreate.map((t) => t.topic), partitionsBySource }
}

/**
 * Why topics cannot be created with `replicationFactor` replicas on a
 * cluster of `brokers` brokers; undefined when they can. Kafka needs one
 * broker per replica.
 */
export function replicationProblem (replicationFactor: number, brokers: number, topic: string): string | undefined {
  if (replicationFactor <= brokers) return undefined
  const cluster = `${brokers} broker${brokers === 1 ? '' : 's'}`
  return `is ${replicationFactor}, but the Kafka cluster has ${cluster}, so topic "${topic}" cannot be created; set it to at most ${brokers} (or create the topics beforehand)`
}

// A source topic created a moment ago (by a producer's ensureTopics, a
// deployment job) may be missing from the answering broker's metadata for a
// while; listTopics then leaves it out. Its metadata is asked for by name,
// which kafkajs retries while the broker says UNKNOWN_TOPIC_OR_PARTITION
// (the admin client never auto-creates topics), before calling it missing.
const SOURCE_TOPIC_WAIT = { attempts: 20, delayMs: 250 }

async function waitForSourceTopics (admin: Admin, sourceTopics: readonly string[], existing: Set<string>): Promise<void> {
  const unseen = sourceTopics.filter((t) => !existing.has(t))
  if (unseen.length === 0) return
  try {
    await retryRetriable(async () => await admin.fetchTopicMetadata({ topics: unseen }), SOURCE_TOPIC_WAIT)
    for (const topic of unseen) existing.add(topic)
  } catch {
    // Still unknown after the wait: the caller names the missing topic.
  }
}
