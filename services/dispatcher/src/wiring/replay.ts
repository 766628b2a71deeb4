// Wires the replay jobs (DESIGN §11): the jobs topic, the operations the
// admin API (and the CLI) use, and the coordinator that runs jobs on the
// one instance that owns the jobs topic's partition.
import { Partitioners, type CompressionTypes, type Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { retryTopicOf, type DispatcherConfig } from '../config.js'
import type { Deliverer } from '../delivery/types.js'
import type { AttemptRecorder } from '../engine/attempt-log.js'
import type { RateLimiter } from '../engine/rate-limiter.js'
import type { RecordDecoder } from '../engine/record-plan.js'
import type { ReplayOperations } from '../engine/replay-job.js'
import type { HistoryStore } from '../history/store.js'
import type { Metrics } from '../metrics.js'
import { ReplayCoordinator } from '../replay/coordinator.js'
import { ensureReplayTopic } from '../replay/jobs-topic.js'
import { createReplayOperations } from '../replay/operations.js'
import type { SubscriptionSource } from '../subscriptions/types.js'

export interface Replays {
  operations: ReplayOperations
  /** Joins the group over the jobs topic; jobs run once this instance owns it. */
  start: () => Promise<void>
  close: () => Promise<void>
}

export async function setUpReplays (o: {
  config: Readonly<DispatcherConfig>
  kafka: Kafka
  compression: CompressionTypes | undefined
  decode: RecordDecoder
  subscriptions: SubscriptionSource
  deliver: Deliverer
  history: (AttemptRecorder & { flush: () => Promise<void> }) | undefined
  store: HistoryStore | undefined
  metrics: Metrics
  /** The endpoints' rate-limit buckets the live engine uses. */
  rateLimiter: RateLimiter
  log: Logger
}): Promise<Replays> {
  const { config, kafka } = o
  const admin = kafka.admin()
  await admin.connect()
  try {
    const created = await ensureReplayTopic(admin, config.replayTopic, config.topicReplicationFactor)
    o.log.info({ topic: config.replayTopic, created }, 'replay jobs topic ready')
  } finally {
    await admin.disconnect()
  }
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const operations = createReplayOperations({
    kafka, producer, jobsTopic: config.replayTopic, sourceTopics: config.sourceTopics, compression: o.compression,
    maxRangeMs: config.replayMaxRangeHours * 3_600_000, maxJobsPerTenant: config.replayMaxJobsPerTenant
  })
  const coordinator = new ReplayCoordinator({
    kafka,
    groupId: `${config.consumerGroupId}-replays`,
    sessionTimeoutMs: config.sessionTimeoutMs,
    running: o.metrics.replayJobsRunning,
    keepFinishedMs: config.replayKeepFinishedDays * 86_400_000,
    log: o.log,
    runner: {
      kafka, producer, jobsTopic: config.replayTopic, compression: o.compression, decode: o.decode, subscriptions: o.subscriptions,
      deliver: o.deliver, deliveryTimeoutMs: config.deliveryTimeoutMs, history: o.history,
      retryTopicOf: (topic) => retryTopicOf(config, topic),
      deliveredIds: async (job) => await (o.store?.deliveredEventIds(job.tenantId, job.endpointId, job.since) ?? Promise.resolve(new Set<string>())),
      maxInFlight: config.replayMaxInFlight,
      endpointMaxInFlight: config.endpointMaxInFlight,
      rateLimiter: o.rateLimiter,
      metrics: o.metrics,
      now: Date.now,
      log: o.log
    }
  })
  return {
    operations,
    start: async () => { await coordinator.start() },
    close: async () => {
      await coordinator.close()
      await producer.disconnect()
    }
  }
}
