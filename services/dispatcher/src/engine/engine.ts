import type { Logger } from 'pino'
import type { Deliverer } from '../delivery/types.js'
import type { DisableCause, Metrics } from '../metrics.js'
import type { SubscriptionSource } from '../subscriptions/types.js'
import { randomUUID } from 'node:crypto'
import { readLineage, type Lineage, type RedriveOutcome } from '../dead-letters/lifecycle.js'
import { createAttempt } from './attempt.js'
import { entryBase, laneOf, noAttemptRecorder, type AttemptRecorder } from './attempt-log.js'
import { CircuitBreakers, type CircuitState } from './circuit-breaker.js'
import type { DeliveryState, DeliveryTask, RawRecord, RecordCoordinates } from './delivery-task.js'
import { EndpointStats, type EndpointStatsView } from './endpoint-stats.js'
import { PartitionPair, type ParkSink } from './partition-pair.js'
import { createRecordPlanner, type RecordDecoder, type RecordPlanner } from './record-plan.js'
import type { RateLimiter } from './rate-limiter.js'
import { createRetryPolicy, type RetryPolicy } from './retry-policy.js'
import { Scheduler } from './scheduler.js'

/** The engine's settings, from config (DispatcherConfig names in brackets). */
export interface EngineSettings {
  /** [maxInFlight] */
  maxInFlight: number
  /** [endpointMaxInFlight] */
  endpointMaxInFlight: number
  /** [partitionWindowRecords] */
  partitionWindowRecords: number
  /** [circuitFailureThreshold] */
  circuitFailureThreshold: number
  /** [circuitOpenMs] */
  circuitOpenMs: number
  /** [retryScheduleMs] */
  retryScheduleMs: readonly number[]
  /** [retryMaxAgeSeconds] × 1000 */
  retryMaxAgeMs: number
  /** [retryAfterMaxMs] */
  retryAfterMaxMs: number
  /** [deliveryTimeoutMs] */
  deliveryTimeoutMs: number
  /** [autoDisableAfterHours] × 3,600,000 */
  autoDisableAfterMs: number
  /** [schemaLookupRetries] */
  schemaLookupRetries: number
  /** [handoverWaitMs] */
  handoverWaitMs: number
  /** [retryMaxParkedInMemory]: parked items per retry partition held with their bytes. @defaultValue Infinity */
  retryMaxParkedInMemory?: number
}

/** What the engine writes through the Kafka adapter, besides parks. */
export interface EngineOutputs {
  /** Resolves once the dead letter is durable; rejects only when closed. */
  deadLetter: (source: RecordCoordinates, record: RawRecord, reason: string, delivery?: DeliveryState, detail?: string) => Promise<void>
  /** Announces that an endpoint was disabled. Never rejects. */
  endpointDisabled: (subscription: { id: string, tenantId: string }, reason: string) => Promise<void>
  /**
   * A redriven delivery (one with a lineage) was delivered or dropped; its
   * dead letter's lifecycle moves on. (Dead again is recorded where the new
   * dead letter is written.) Never rejects.
   */
  redriveSettled?: (lineage: Lineage, outcome: RedriveOutcome) => Promise<void>
}

export interface DeliveryEngineOptions {
  settings: EngineSettings
  subscriptions: SubscriptionSource
  deliver: Deliverer
  decode: RecordDecoder
  outputs: EngineOutputs
  metrics: Metrics
  log: Logger
  now: () => number
  /**
   * Whether this member still holds its group lease (last heartbeat within
   * the session timeout): while not, no attempt starts, because its
   * partitions may already have a new owner.
   */
  leaseValid?: () => boolean
  /** The delivery history (DESIGN §10). @defaultValue records nothing */
  history?: AttemptRecorder
  /** The endpoints' rate-limit buckets, shared with replays (Scheduler). @defaultValue its own */
  rateLimiter?: RateLimiter
  /**
   * Reads retry partition `topic:partition` again from `offset` (the Kafka
   * adapter's seek): a retry lane needs the record of a head it holds
   * without its bytes.
   */
  rereadRetry?: (topic: string, partition: number, offset: bigint) => void
}

export interface EndpointStatus extends EndpointStatsView {
  circuit: CircuitState
  disabledReason?: string
}

/**
 * The delivery engine of one dispatcher instance: the partition pairs it
 * owns, the scheduler that runs their deliveries, the attempt policy, the
 * retry policy and the per-endpoint circuit breakers. It knows no Kafka
 * client: the adapter hands it records (through {@link planner} and the
 * pairs' lanes), park sinks and outputs, and reads commits from the pairs.
 */
export class DeliveryEngine {
  readonly planner: RecordPlanner
  readonly retryPolicy: RetryPolicy
  readonly #o: DeliveryEngineOptions
  readonly #pairs = new Map<string, PartitionPair>()
  readonly #scheduler: Scheduler
  readonly #breakers: CircuitBreakers
  readonly #endpointStats = new EndpointStats()

  constructor (o: DeliveryEngineOptions) {
    this.#o = o
    const s = o.settings
    this.#breakers = new CircuitBreakers({ failureThreshold: s.circuitFailureThreshold, initialOpenMs: s.circuitOpenMs })
    this.retryPolicy = createRetryPolicy({ scheduleMs: s.retryScheduleMs, maxAgeMs: s.retryMaxAgeMs, retryAfterMaxMs: s.retryAfterMaxMs })
    this.planner = createRecordPlanner({ decode: o.decode, subscriptions: o.subscriptions, metrics: o.metrics, schemaLookupRetries: s.schemaLookupRetries, log: o.log })
    // A subscription's own cap may lower ENDPOINT_MAX_IN_FLIGHT, never raise
    // it. The scheduler holds each endpoint to it, and the deliverer sizes
    // the endpoint's connection pool by it.
    const endpointCap = (id: string): number => Math.min(o.subscriptions.get(id)?.maxInFlight ?? Infinity, s.endpointMaxInFlight)
    const attempt = createAttempt({
      subscriptions: o.subscriptions,
      endpointCap,
      deliver: o.deliver,
      breakers: this.#breakers,
      endpointStats: this.#endpointStats,
      retryPolicy: this.retryPolicy,
      metrics: o.metrics,
      deliveryTimeoutMs: s.deliveryTimeoutMs,
      autoDisableAfterMs: s.autoDisableAfterMs,
      disable: (subscriptionId, reason) => this.disable(subscriptionId, reason, 'continuous-failure'),
      now: o.now,
      log: o.log,
      history: o.history ?? noAttemptRecorder,
      newId: randomUUID
    })
    this.#scheduler = new Scheduler({
      maxInFlight: s.maxInFlight,
      rateLimit: (id) => o.subscriptions.get(id)?.rateLimitPerSecond,
      now: o.now,
      endpointCap,
      execute: attempt,
      mayStart: o.leaseValid,
      ...(o.rateLimiter === undefined ? {} : { rateLimiter: o.rateLimiter }),
      onError: (err, task) => o.log.error({ err, subscriptionId: task.subscriptionId }, 'delivery bookkeeping failed')
    })
  }

  get breakers (): CircuitBreakers {
    return this.#breakers
  }

  get inFlight (): number {
    return this.#scheduler.inFlight
  }

  pairs (): IterableIterator<PartitionPair> {
    return this.#pairs.values()
  }

  pair (id: string): PartitionPair | undefined {
    return this.#pairs.get(id)
  }

  /** Takes on a newly assigned source partition and its retry partition. */
  openPair (topic: string, retryTopic: string, partition: number, parkSink: ParkSink, owner: string, log: Logger): PartitionPair {
    const o = this.#o
    const history = o.history ?? noAttemptRecorder
    const onSettled = (lane: 'source' | 'retry') => (outcome: string, task?: DeliveryTask): void => {
      o.metrics.settled.inc({ outcome, lane })
      o.metrics.lastProcessed.set(o.now() / 1000)
      if (outcome === 'parked' && task !== undefined) {
        history.record({ ...entryBase(task, randomUUID()), lane: laneOf(task), kind: 'outcome', outcome: 'parked', startedAt: o.now(), ...(task.lastError === undefined ? {} : { errorCode: task.lastError }) })
      }
      // Only a retry lane holds redriven records; the source lane never has a lineage.
      if (outcome !== 'delivered' && outcome !== 'dropped') return
      const lineage = task === undefined ? undefined : readLineage(task.record.headers)
      if (lineage !== undefined) void o.outputs.redriveSettled?.(lineage, { kind: outcome })
    }
    const common = {
      // The lanes hand the task over as the delivery state: a dead letter of
      // a delivery (not of an unreadable record) is in the history too,
      // before the offset that settles it can be committed.
      deadLetter: async (source: RecordCoordinates, record: RawRecord, reason: string, delivery?: DeliveryState, detail?: string): Promise<void> => {
        await o.outputs.deadLetter(source, record, reason, delivery, detail)
        if (delivery !== undefined && isTask(delivery)) {
          history.record({ ...entryBase(delivery, randomUUID()), lane: laneOf(delivery), kind: 'outcome', outcome: 'dead_lettered', startedAt: o.now(), errorCode: reason })
        }
      },
      // The lanes disable an endpoint only when it answers 410 Gone.
      disableEndpoint: (subscriptionId: string, reason: string) => this.disable(subscriptionId, reason, 'gone'),
      requestPump: () => this.#scheduler.requestPump(),
      now: o.now
    }
    const pair = new PartitionPair({
      topic,
      retryTopic,
      partition,
      windowLimit: o.settings.partitionWindowRecords,
      parkSink,
      owner,
      handoverWaitMs: o.settings.handoverWaitMs,
      retryMaxWithBytes: o.settings.retryMaxParkedInMemory ?? Infinity,
      log,
      retryEffects: {
        ...common,
        nextAttempt: (task, retryAfterMs, asOf) => this.retryPolicy.next(task, asOf ?? o.now(), retryAfterMs),
        onSettled: onSettled('retry'),
        reread: (retryOffset) => o.rereadRetry?.(retryTopic, partition, retryOffset)
      },
      sourceEffects: { ...common, onSettled: onSettled('source') }
    })
    this.#pairs.set(pair.id, pair)
    this.#scheduler.add(pair.source)
    this.#scheduler.add(pair.retry)
    return pair
  }

  /** Gives up a pair (revoked): nothing more starts; late results are ignored. */
  closePair (pair: PartitionPair): void {
    pair.close()
    this.#scheduler.remove(pair.source.id)
    this.#scheduler.remove(pair.retry.id)
    this.#pairs.delete(pair.id)
  }

  /** No attempt running and no pair with work queued or parks outstanding. */
  drained (): boolean {
    if (this.#scheduler.inFlight > 0) return false
    for (const pair of this.#pairs.values()) if (!pair.isDrained()) return false
    return true
  }

  /** Stops starting attempts (shutdown); running ones finish. */
  stop (): void {
    this.#scheduler.stop()
  }

  requestPump (): void {
    this.#scheduler.requestPump()
  }

  /** Disables an endpoint (410 Gone, continuous failure) once, and announces it. */
  disable (subscriptionId: string, reason: string, cause: DisableCause): void {
    const o = this.#o
    const subscription = o.subscriptions.get(subscriptionId)
    if (subscription?.enabled !== true) return
    o.metrics.endpointDisables.inc({ cause })
    o.subscriptions.disable(subscriptionId, reason)
    void o.outputs.endpointDisabled(subscription, reason)
    o.log.warn({ subscriptionId, reason }, 'endpoint disabled')
  }

  /** What the admin API shows about an endpoint: recent results, circuit state, why disabled. */
  endpointStatus (subscriptionId: string): EndpointStatus {
    const now = this.#o.now()
    const disabledReason = this.#o.subscriptions.get(subscriptionId)?.disabledReason
    return {
      ...this.#endpointStats.view(subscriptionId, now),
      circuit: this.#breakers.state(subscriptionId, now),
      ...(disabledReason === undefined ? {} : { disabledReason })
    }
  }

  /** An endpoint resumed, was re-enabled, disabled or deleted: its held deliveries move on. */
  resumeEndpoint (subscriptionId: string): void {
    this.#breakers.forget(subscriptionId)
    for (const pair of this.#pairs.values()) pair.retry.releaseHeld(subscriptionId)
  }
}

function isTask (delivery: DeliveryState): delivery is DeliveryTask {
  return 'webhookId' in delivery && 'source' in delivery
}
