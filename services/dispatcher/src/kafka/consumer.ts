import { randomUUID } from 'node:crypto'
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { JavaCompatiblePartitioner, kafkaCompressionType } from '../../../events/src/index.js'
import { retryTopicOf, type DispatcherConfig } from '../config.js'
import type { Deliverer } from '../delivery/types.js'
import { DeliveryEngine, type EndpointStatus } from '../engine/engine.js'
import type { AttemptRecorder } from '../engine/attempt-log.js'
import type { PartitionPair } from '../engine/partition-pair.js'
import type { RateLimiter } from '../engine/rate-limiter.js'
import type { RecordDecoder } from '../engine/record-plan.js'
import { KafkaCrashError } from '../errors.js'
import type { Metrics } from '../metrics.js'
import { retryRetriable } from '../retriable.js'
import type { SubscriptionSource } from '../subscriptions/types.js'
import { createCoPartitionAssigner } from './assigner.js'
import { readRetryBatch, readSourceBatch, type BatchReaderDeps } from './batch-readers.js'
import { GroupLease } from './group-lease.js'
import { OrderedSender } from './ordered-sender.js'
import { loadPairOffsets } from './pair-offsets.js'
import { runtimeMetricSources } from './runtime-metrics.js'
import { PartitionPauses } from './partition-pauses.js'
import { SideTopics, type EndpointEventType } from './side-topics.js'

export interface DispatcherRuntimeOptions {
  config: Readonly<DispatcherConfig>
  kafka: Kafka
  decode: RecordDecoder
  subscriptions: SubscriptionSource
  deliver: Deliverer
  metrics: Metrics
  log: Logger
  now?: () => number
  /** A kafkajs crash it will not recover from: the process must exit non-zero. */
  onFatal: (err: unknown) => void
  /**
   * The delivery history's writer (HISTORY_ENABLED): the engine records every
   * attempt and outcome in it, and each commit waits until what it settles
   * is written.
   */
  history?: AttemptRecorder & { flush: () => Promise<void> }
  /** The endpoints' rate-limit buckets, shared with replays. @defaultValue the engine's own */
  rateLimiter?: RateLimiter
  /**
   * Ends the attempts still in flight (the deliverer's abortInFlight): at
   * shutdown, once the drain deadline has passed and the lanes no longer
   * take results, so an endpoint that never answers cannot hold the
   * handover and the exit past the hard deadline.
   */
  abortDeliveries?: () => void
}

/**
 * Wires kafkajs to the lanes: one consumer in the group, subscribed to the
 * source topics and their retry topics, with the co-partition assigner;
 * `eachBatch` without auto-resolve or auto-commit. `resolveOffset` only moves
 * the fetch position; the settled watermarks are committed on an interval,
 * when a rebalance starts, and at shutdown.
 *
 * eachBatch never waits for deliveries: kafkajs fetches for a broker only
 * after every batch of the previous fetch returned, so a waiting partition
 * would stall all others. A full window or a registry outage pauses just that
 * partition; its unresolved records are fetched again after resume.
 */
export class DispatcherRuntime {
  readonly #o: DispatcherRuntimeOptions
  readonly #log: Logger
  readonly #now: () => number
  readonly #engine: DeliveryEngine
  readonly #retryTopicToSource = new Map<string, string>()
  readonly #pauses: PartitionPauses
  #consumer: Consumer | undefined
  #producer: Producer | undefined
  #admin: Admin | undefined
  #sideTopics: SideTopics | undefined
  #commitTimer: NodeJS.Timeout | undefined
  #joined = false
  #joinedOnce = false
  #closing = false
  #closed: Promise<void> | undefined
  #draining = false
  #committing: Promise<void> | undefined
  readonly #lease: GroupLease
  readonly #readers: BatchReaderDeps

  constructor (options: DispatcherRuntimeOptions) {
    this.#o = options
    this.#log = options.log
    this.#now = options.now ?? Date.now
    const { config } = options
    this.#lease = new GroupLease(options.config.sessionTimeoutMs, this.#now)
    this.#pauses = new PartitionPauses(() => this.#consumer, options.metrics, this.#log)
    for (const topic of config.sourceTopics) this.#retryTopicToSource.set(retryTopicOf(config, topic), topic)
    this.#engine = new DeliveryEngine({
      settings: {
        maxInFlight: config.maxInFlight,
        endpointMaxInFlight: config.endpointMaxInFlight,
        partitionWindowRecords: config.partitionWindowRecords,
        circuitFailureThreshold: config.circuitFailureThreshold,
        circuitOpenMs: config.circuitOpenMs,
        retryScheduleMs: config.retryScheduleMs,
        retryMaxAgeMs: config.retryMaxAgeSeconds * 1000,
        retryAfterMaxMs: config.retryAfterMaxMs,
        deliveryTimeoutMs: config.deliveryTimeoutMs,
        autoDisableAfterMs: config.autoDisableAfterHours * 3_600_000,
        schemaLookupRetries: config.schemaLookupRetries,
        handoverWaitMs: config.handoverWaitMs,
        retryMaxParkedInMemory: config.retryMaxParkedInMemory
      },
      subscriptions: options.subscriptions,
      deliver: options.deliver,
      decode: options.decode,
      // Pairs, and so these calls, exist only once start() made the side topics.
      outputs: {
        deadLetter: async (source, record, reason, delivery, detail) => await (this.#sideTopics as SideTopics).deadLetter(source, record, reason, delivery, detail),
        endpointDisabled: async (subscription, reason) => await this.publishEndpointEvent('endpoint.disabled', subscription, reason),
        redriveSettled: async (lineage, outcome) => await (this.#sideTopics as SideTopics).redriveSettled(lineage, outcome)
      },
      metrics: options.metrics,
      log: this.#log,
      now: this.#now,
      leaseValid: () => this.#lease.valid(),
      ...(options.history === undefined ? {} : { history: options.history }),
      ...(options.rateLimiter === undefined ? {} : { rateLimiter: options.rateLimiter }),
      // kafkajs fetches the partition from there on (a seek only moves the
      // fetch position here: auto-commit is off).
      rereadRetry: (topic, partition, offset) => { this.#seek(topic, partition, offset) }
    })
    this.#readers = {
      planner: this.#engine.planner,
      pauses: this.#pauses,
      metrics: options.metrics,
      log: this.#log,
      now: this.#now,
      retryMaxParkedTracked: config.retryMaxParkedTracked,
      seek: (topic, partition, offset) => { this.#seek(topic, partition, offset) },
      draining: () => this.#draining,
      requestPump: () => this.#engine.requestPump()
    }
    options.metrics.bind(runtimeMetricSources({
      sourceTopics: config.sourceTopics,
      pairs: () => this.#engine.pairs(),
      stopped: () => this.#pauses.stoppedLanes(),
      subscriptions: options.subscriptions,
      breakers: this.#engine.breakers,
      admin: () => this.#admin,
      now: this.#now
    }))
  }

  /** Joined the group and not shutting down: false from a rebalance's start until the next join. */
  get ready (): boolean {
    return this.#joined && !this.#closing
  }

  /** Has joined the group at least once: start-up is over (the start-up probe). */
  get started (): boolean {
    return this.#joinedOnce
  }

  async start (): Promise<void> {
    const { config, kafka } = this.#o
    // A baseline, so "time since last progress" is measured from start-up.
    this.#o.metrics.lastProcessed.set(this.#now() / 1000)
    this.#admin = kafka.admin()
    await this.#admin.connect()
    // Java's keyed placement, with Math.imul: kafkajs's own murmur2 does the
    // same arithmetic on emulated 64-bit longs, a measurable share of a busy
    // producer's CPU (bench/history.md). Named, so kafkajs does not warn.
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner })
    await this.#producer.connect()
    this.#sideTopics = new SideTopics({
      producer: this.#producer,
      compression: kafkaCompressionType(config.kafkaCompression),
      deadLetterTopic: config.deadLetterTopic,
      deadLetterStateTopic: config.deadLetterStateTopic,
      endpointEventsTopic: config.endpointEventsTopic,
      metrics: this.#o.metrics,
      log: this.#log,
      now: this.#now
    })
    const consumer = kafka.consumer({
      groupId: config.consumerGroupId,
      partitionAssigners: [createCoPartitionAssigner({ retrySuffix: config.retryTopicSuffix })],
      allowAutoTopicCreation: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250
    })
    this.#consumer = consumer
    // Every renewal asks for a pump: while the lease had lapsed, pumps were
    // skipped, and nothing else may come to start the work they left.
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.#lease.renew()
      this.#onGroupJoin(event.payload.memberAssignment)
      this.#engine.requestPump()
    })
    consumer.on(consumer.events.HEARTBEAT, () => {
      this.#lease.renew()
      this.#engine.requestPump()
    })
    consumer.on(consumer.events.REBALANCING, () => {
      this.#joined = false
      // Commit what is settled while this generation can still commit.
      void this.#commit()
    })
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload
      this.#log.error({ err: error, restart }, 'kafka consumer crashed')
      if (!restart && !this.#closing) this.#o.onFatal(new KafkaCrashError('the kafka consumer crashed and will not restart', { cause: error }))
    })
    await consumer.connect()
    const topics = config.sourceTopics.flatMap((t) => [t, retryTopicOf(config, t)])
    // The retry topics may have been created a moment ago.
    await retryRetriable(() => consumer.subscribe({ topics, fromBeginning: true }))
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: (payload) => this.#eachBatch(payload)
    })
    this.#commitTimer = setInterval(() => {
      for (const pair of this.#engine.pairs()) pair.maintain()
      void this.#commit()
    }, config.commitIntervalMs)
    this.#pauses.start()
  }

  /** Summary for logs and tests. */
  stats (): { pairs: number, inFlight: number, parkedHeld: number, blockedKeys: number } {
    let parkedHeld = 0
    let blockedKeys = 0
    let pairs = 0
    for (const pair of this.#engine.pairs()) {
      pairs++
      parkedHeld += pair.retry.heldItems
      blockedKeys += pair.source.blockedKeys
    }
    return { pairs, inFlight: this.#engine.inFlight, parkedHeld, blockedKeys }
  }

  /**
   * Graceful shutdown (C7): stop fetching, let the windows drain (deliveries
   * already read finish, so the final commit covers them and nothing is
   * delivered twice), bounded by the deadline; then commit and leave.
   */
  close (deadlineMs = this.#o.config.shutdownDeadlineMs): Promise<void> {
    // A second call (a second signal) waits for the first.
    this.#closed ??= this.#close(deadlineMs)
    return this.#closed
  }

  async #close (deadlineMs: number): Promise<void> {
    this.#closing = true
    this.#draining = true
    // Nothing resumes any more: the partitions stay paused through the drain.
    this.#pauses.stop()
    const consumer = this.#consumer
    const deadline = this.#now() + deadlineMs
    if (consumer !== undefined) {
      consumer.pause(this.#o.config.sourceTopics.flatMap((t) => [{ topic: t }, { topic: retryTopicOf(this.#o.config, t) }]))
    }
    await this.#waitFor(() => this.#drained(), deadline)
    // What still waits on the retry topics is written again behind what was
    // settled, so the commit passes everything settled: a restart delivers
    // nothing twice, and the retry lag is what really waits.
    for (const pair of this.#engine.pairs()) pair.maintain(0)
    await this.#waitFor(() => this.#drained(), deadline)
    if (!this.#drained()) this.#log.warn(this.stats(), 'shutdown deadline reached with deliveries unsettled; they will be redelivered')
    this.#engine.stop()
    clearInterval(this.#commitTimer)
    // A commit of the interval may be under way (it waits for the history):
    // the second covers what settled since it began.
    await this.#commit().catch(() => undefined)
    await this.#commit().catch(() => undefined)
    // Releases go behind the last park, so the next owner need not wait.
    const releaseBy = this.#now() + 2_000
    // Each pair is closed (its lanes take no more results) before this returns...
    const handovers = [...this.#engine.pairs()].map(async (pair) => await this.#closePair(pair, () => this.#now() < releaseBy))
    // ...so attempts still open past the deadline can end now: unsettled and
    // uncommitted, they are made again by the next owner.
    this.#o.abortDeliveries?.()
    await Promise.all(handovers)
    this.#sideTopics?.close()
    const steps: Array<() => Promise<void>> = [
      async () => { await consumer?.disconnect() },
      async () => { await this.#producer?.disconnect() },
      async () => { await this.#admin?.disconnect() }
    ]
    for (const step of steps) {
      try {
        await step()
      } catch (err) {
        this.#log.warn({ err }, 'shutdown step failed')
      }
    }
  }

  async #waitFor (condition: () => boolean, deadline: number): Promise<void> {
    while (this.#now() < deadline && !condition()) await new Promise((resolve) => setTimeout(resolve, 50))
  }

  #drained (): boolean {
    return this.#engine.drained() && (this.#sideTopics?.pendingDeadLetters ?? 0) === 0
  }

  // ---- assignment -------------------------------------------------------

  #onGroupJoin (assignment: Record<string, number[]>): void {
    this.#o.metrics.rebalances.inc()
    const wanted = new Set<string>()
    for (const topic of this.#o.config.sourceTopics) {
      for (const partition of assignment[topic] ?? []) wanted.add(`${topic}:${partition}`)
    }
    for (const pair of [...this.#engine.pairs()]) {
      if (wanted.has(pair.id)) continue
      // Lost: its running deliveries finish (each bounded by the delivery
      // timeout), then the release is written, for as long as this member
      // holds its lease: the next owner waits for it.
      void this.#closePair(pair, () => this.#lease.valid() && !this.#closing)
    }
    for (const id of wanted) {
      if (this.#engine.pair(id) === undefined) {
        const [topic, partition] = splitId(id)
        this.#openPair(topic, partition)
      }
    }
    this.#o.metrics.assignedPartitions.set(wanted.size)
    this.#joined = true
    this.#joinedOnce = true
    this.#log.info({ partitions: [...wanted].sort() }, 'joined consumer group')
  }

  #openPair (topic: string, partition: number): void {
    const config = this.#o.config
    const retryTopic = retryTopicOf(config, topic)
    const log = this.#log.child({ lane: `${topic}:${partition}` })
    const parkSink = new OrderedSender({
      producer: this.#producer as Producer,
      compression: kafkaCompressionType(config.kafkaCompression),
      topic: retryTopic,
      partition,
      mayWrite: () => this.#lease.valid(),
      onSendError: (err, attempt) => log.warn({ err, attempt }, 'park failed; retrying')
    })
    const owner = `${config.kafkaClientId}/${randomUUID()}`
    const pair = this.#engine.openPair(topic, retryTopic, partition, parkSink, owner, log.child({ owner }))
    void pair.claim()
    void loadPairOffsets(this.#admin as Admin, config.consumerGroupId, pair, retryTopic, partition, log)
  }

  // Revoked or shutting down: nothing more starts, then the pair is handed
  // over (DESIGN §4a). Never rejects.
  async #closePair (pair: PartitionPair, mayTry: () => boolean): Promise<void> {
    this.#engine.closePair(pair)
    this.#pauses.forget(pair.source.id)
    this.#pauses.forget(pair.retry.id)
    const released = await pair.handOver(mayTry)
    this.#log.info({ lane: pair.id, released }, released ? 'partition released' : 'partition given up without a release; the next owner waits HANDOVER_WAIT_MS')
  }

  // ---- consuming --------------------------------------------------------

  #seek (topic: string, partition: number, offset: bigint): void {
    try {
      this.#consumer?.seek({ topic, partition, offset: offset.toString() })
    } catch (err) {
      // Not running (closing) or the partition is no longer ours: nothing to read again.
      this.#log.debug({ err, topic, partition }, 'seek skipped')
    }
  }

  async #eachBatch (payload: EachBatchPayload): Promise<void> {
    const { batch } = payload
    const retryOf = this.#retryTopicToSource.get(batch.topic)
    const pair = this.#engine.pair(`${retryOf ?? batch.topic}:${batch.partition}`)
    if (pair === undefined) return
    if (retryOf === undefined) {
      await readSourceBatch(this.#readers, pair, payload)
    } else {
      await readRetryBatch(this.#readers, pair, payload)
    }
  }

  // ---- endpoints --------------------------------------------------------

  /** An endpoint was disabled or enabled: announced on ENDPOINT_EVENTS_TOPIC. Never rejects. */
  async publishEndpointEvent (type: EndpointEventType, subscription: { id: string, tenantId: string }, reason: string): Promise<void> {
    await this.#sideTopics?.endpointEvent(type, subscription, reason)
  }

  /** An operator enabled or disabled an endpoint through this instance's admin API: counted, then announced. */
  async operatorChangedEndpoint (type: EndpointEventType, subscription: { id: string, tenantId: string }, reason: string): Promise<void> {
    if (type === 'endpoint.disabled') this.#o.metrics.endpointDisables.inc({ cause: 'operator' })
    await this.publishEndpointEvent(type, subscription, reason)
  }

  /** What the admin API shows about an endpoint: recent results, circuit state, why disabled. */
  endpointStatus (subscriptionId: string): EndpointStatus {
    return this.#engine.endpointStatus(subscriptionId)
  }

  /** An endpoint resumed, was re-enabled, disabled or deleted: its held deliveries move on. */
  resumeEndpoint (subscriptionId: string): void {
    this.#engine.resumeEndpoint(subscriptionId)
  }

  // ---- committing -------------------------------------------------------

  async #commit (): Promise<void> {
    // One commit at a time; a tick that finds one running skips.
    if (this.#committing !== undefined) return await this.#committing
    const consumer = this.#consumer
    if (consumer === undefined) return
    const pending = [...this.#engine.pairs()].map((pair) => ({ pair, entries: pair.pendingCommits() })).filter((p) => p.entries.length > 0)
    if (pending.length === 0) return
    const offsets = pending.flatMap(({ entries }) => entries.map((e) => ({ topic: e.topic, partition: e.partition, offset: e.offset.toString(), metadata: e.metadata })))
    // Every attempt and outcome that settled these offsets was recorded
    // before they were read: once the history has them, they may be committed.
    const history = this.#o.history
    const written = history === undefined ? Promise.resolve() : history.flush()
    this.#committing = written.then(async () => await consumer.commitOffsets(offsets)).then(() => {
      for (const { pair, entries } of pending) pair.committed(entries)
      this.#o.metrics.commits.inc()
      this.#log.debug({ offsets }, 'committed')
    }, (err: unknown) => {
      this.#o.metrics.commitFailures.inc()
      this.#log.warn({ err }, 'offset commit failed; will retry')
    }).finally(() => { this.#committing = undefined })
    await this.#committing
  }
}

function splitId (id: string): [string, number] {
  const at = id.lastIndexOf(':')
  return [id.slice(0, at), Number(id.slice(at + 1))]
}
