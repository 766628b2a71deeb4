import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { decodeFailureReasons } from './errors.js'

/** Why a delivery or record went to the dead-letter topic. */
export const deadLetterReasons = [...decodeFailureReasons, 'retries-exhausted', 'endpoint-gone', 'endpoint-disabled', 'endpoint-quarantined', 'malformed-parked-record'] as const
/** Why a subscriptions record was not applied as written (subscriptions/topic-store.ts). */
export const recordRefusalReasons = ['mac-mismatch', 'unsigned', 'undecryptable', 'malformed'] as const
export type RecordRefusalReason = (typeof recordRefusalReasons)[number]
export const dropReasons = ['no-subscription', 'subscription-deleted'] as const
export const failureClasses = ['3xx', '4xx', '5xx', 'network', 'timeout'] as const
export const lanes = ['source', 'retry'] as const
export const settleOutcomes = ['delivered', 'parked', 'dead-lettered', 'dropped'] as const
/** The outcomes of delivery-history records (schemas/delivery-attempt.avsc). */
export const historyOutcomes = ['delivered', 'failed', 'parked', 'held', 'dead_lettered', 'dropped'] as const
export const circuitStates = ['closed', 'open', 'half-open'] as const
/** Why an endpoint was disabled: a 410 Gone answer, AUTO_DISABLE_AFTER_HOURS of failures, or an operator (admin API). */
export const disableCauses = ['gone', 'continuous-failure', 'operator'] as const
export type DisableCause = (typeof disableCauses)[number]
/** Where a consumer meets an undecodable batch: the lanes and the subscriptions store. */
export const batchReaders = [...lanes, 'subscriptions'] as const
export type BatchReader = (typeof batchReaders)[number]
const knownCodecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const

/** Live state the gauges read at scrape time; the runtime fills it in. */
export interface MetricSources {
  parkedByTopic: () => Map<string, number>
  /** Of those, held without their bytes (past RETRY_MAX_PARKED_IN_MEMORY per partition), in all. */
  parkedWithoutBytes: () => number
  blockedKeys: () => number
  windowRecords: () => number
  endpointsDisabled: () => number
  circuitStates: () => Record<(typeof circuitStates)[number], number>
  /** Committed-to-end distance per assigned partition (source and retry). */
  consumerLag: () => Promise<Array<{ topic: string, partition: number, lag: number }>>
  /** Source and retry partitions stopped at an undecodable record batch. */
  stoppedPartitions: () => Record<(typeof lanes)[number], number>
  /** Subscriptions-topic partitions stopped at an undecodable record batch. */
  stoppedSubscriptionPartitions: () => number
  /** Endpoints quarantined: their record cannot be verified or decrypted here. */
  quarantinedSubscriptions: () => number
  /** V8 heap of each history thread (the main thread's is in the default metrics). */
  historyThreadHeaps?: () => Promise<Array<{ role: string, used: number, total: number }>>
}

/**
 * The dispatcher's Prometheus metrics, on one registry passed around (not the
 * global default). Names are prefixed `webhooks_`, in base units; label
 * values are bounded (no tenant or endpoint ids), and every known label
 * combination starts at zero so rates and alerts see a series from the start.
 */
export function createMetrics () {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'webhooks_' })
  let sources: MetricSources | undefined

  const m = {
    registry,
    /** Called by the runtime (and main, for the subscriptions store), so gauges can read live state at scrape time. */
    bind: (s: Partial<MetricSources>) => { sources = { ...sources, ...s } as MetricSources },
    deliveries: new Counter({
      name: 'webhooks_deliveries_total',
      help: 'Delivery attempts by outcome (delivered, failed), status class and lane (source, retry)',
      labelNames: ['outcome', 'status_class', 'lane'] as const,
      registers: [registry]
    }),
    attemptDuration: new Histogram({
      name: 'webhooks_attempt_duration_seconds',
      help: 'Duration of one HTTP delivery attempt',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers: [registry]
    }),
    endToEndLag: new Histogram({
      name: 'webhooks_end_to_end_lag_seconds',
      help: 'Time from the event\'s occurredAt to its successful delivery',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
      registers: [registry]
    }),
    inFlight: new Gauge({ name: 'webhooks_in_flight', help: 'Delivery attempts running now', registers: [registry] }),
    settled: new Counter({
      name: 'webhooks_settled_total',
      help: 'Deliveries settled, by how (delivered, parked, dead-lettered, dropped) and lane',
      labelNames: ['outcome', 'lane'] as const,
      registers: [registry]
    }),
    dropped: new Counter({
      name: 'webhooks_dropped_total',
      help: 'Records or deliveries dropped by an explicit rule (no matching subscription, subscription deleted)',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    deadLetters: new Counter({
      name: 'webhooks_dead_letters_total',
      help: 'Records written to the dead-letter topic, by reason',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    decodeErrors: new Counter({
      name: 'webhooks_decode_errors_total',
      help: 'Source records that could not be decoded, by reason',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    undecodableBatches: new Counter({
      name: 'webhooks_undecodable_batches_total',
      help: 'Compressed record batches that could not be decoded (corrupt, or an unknown codec); each stops its partition',
      labelNames: ['reader', 'codec'] as const,
      registers: [registry]
    }),
    stoppedPartitions: new Gauge({
      name: 'webhooks_stopped_partitions',
      help: 'Partitions stopped at an undecodable record batch, by reader (source, retry, subscriptions)',
      labelNames: ['reader'] as const,
      registers: [registry],
      collect () {
        const stopped = { ...sources?.stoppedPartitions?.(), subscriptions: sources?.stoppedSubscriptionPartitions?.() }
        for (const reader of batchReaders) this.set({ reader }, stopped[reader] ?? 0)
      }
    }),
    registryErrors: new Counter({ name: 'webhooks_registry_errors_total', help: 'Schema registry lookups that failed because the registry was unreachable', registers: [registry] }),
    commitFailures: new Counter({ name: 'webhooks_commit_failures_total', help: 'Offset commits that failed', registers: [registry] }),
    commits: new Counter({ name: 'webhooks_commits_total', help: 'Offset commits written', registers: [registry] }),
    rebalances: new Counter({ name: 'webhooks_rebalances_total', help: 'Consumer group joins of this member', registers: [registry] }),
    lateParks: new Counter({ name: 'webhooks_late_parks_total', help: 'Parks of a previous owner read after this owner took the partition (the previous owner outlived HANDOVER_WAIT_MS); their keys may be delivered out of order', labelNames: ['topic'], registers: [registry] }),
    lastProcessed: new Gauge({ name: 'webhooks_last_processed_timestamp_seconds', help: 'When a delivery last settled (Unix seconds)', registers: [registry] }),
    assignedPartitions: new Gauge({ name: 'webhooks_assigned_partitions', help: 'Source partitions assigned to this member', registers: [registry] }),
    endpointsDisabled: new Gauge({
      name: 'webhooks_endpoints_disabled',
      help: 'Endpoints disabled (410 Gone or by an operator)',
      registers: [registry],
      collect () { this.set(sources?.endpointsDisabled() ?? 0) }
    }),
    quarantinedSubscriptions: new Gauge({
      name: 'webhooks_quarantined_subscriptions',
      help: 'Endpoints quarantined because their subscriptions record cannot be verified or decrypted with SECRETS_ENCRYPTION_KEYS (or has no MAC); their events are dead-lettered as endpoint-quarantined',
      registers: [registry],
      collect () { this.set(sources?.quarantinedSubscriptions?.() ?? 0) }
    }),
    subscriptionRecordsRefused: new Counter({
      name: 'webhooks_subscription_records_refused_total',
      help: 'Subscriptions records not applied as written, by reason: mac-mismatch (refused), unsigned and undecryptable (endpoint quarantined), malformed (skipped)',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    endpointDisables: new Counter({ name: 'webhooks_endpoint_disables_total', help: 'Times an endpoint was disabled, by cause: gone (410), continuous-failure, operator', labelNames: ['cause'], registers: [registry] }),
    parkedBacklog: new Gauge({
      name: 'webhooks_parked_backlog',
      help: 'Parked deliveries held by retry lanes, per source topic',
      labelNames: ['topic'] as const,
      registers: [registry],
      collect () {
        this.reset()
        for (const [topic, count] of sources?.parkedByTopic() ?? []) this.set({ topic }, count)
      }
    }),
    parkedWithoutBytes: new Gauge({
      name: 'webhooks_parked_without_bytes',
      help: 'Parked deliveries held by retry lanes without their bytes (past RETRY_MAX_PARKED_IN_MEMORY per partition; read again from the retry topic when due)',
      registers: [registry],
      collect () { this.set(sources?.parkedWithoutBytes() ?? 0) }
    }),
    blockedKeys: new Gauge({
      name: 'webhooks_blocked_keys',
      help: '(subscription, account) keys waiting behind a parked delivery',
      registers: [registry],
      collect () { this.set(sources?.blockedKeys() ?? 0) }
    }),
    windowRecords: new Gauge({
      name: 'webhooks_window_records',
      help: 'Source records read and held in partition windows (unsettled or above an unsettled one)',
      registers: [registry],
      collect () { this.set(sources?.windowRecords() ?? 0) }
    }),
    circuitBreakers: new Gauge({
      name: 'webhooks_circuit_breakers',
      help: 'Endpoints by circuit-breaker state',
      labelNames: ['state'] as const,
      registers: [registry],
      collect () {
        const states = sources?.circuitStates()
        for (const state of circuitStates) this.set({ state }, states?.[state] ?? 0)
      }
    }),
    consumerLag: new Gauge({
      name: 'webhooks_consumer_lag',
      help: 'Records between the committed offset and the end of each assigned partition',
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
      async collect () {
        if (sources === undefined) return
        const lags = await sources.consumerLag().catch(() => undefined)
        if (lags === undefined) return
        this.reset()
        for (const { topic, partition, lag } of lags) this.set({ topic, partition: String(partition) }, lag)
      }
    }),
    historyRecords: new Counter({
      name: 'webhooks_history_records_total',
      help: 'Delivery-history records (attempts and outcomes) acknowledged by the attempts topic',
      labelNames: ['outcome'] as const,
      registers: [registry]
    }),
    historyWriteFailures: new Counter({ name: 'webhooks_history_write_failures_total', help: 'Writes to the attempts topic that failed (retried; commits wait for them)', registers: [registry] }),
    historyIndexed: new Counter({ name: 'webhooks_history_indexed_total', help: 'Attempts-topic records written to the history index by this instance\'s indexer', registers: [registry] }),
    historyIndexerLag: new Gauge({ name: 'webhooks_history_indexer_lag', help: 'Attempts-topic records not yet in the history index, over the partitions this instance\'s indexer reads', registers: [registry] }),
    historyIndexRows: new Gauge({ name: 'webhooks_history_index_rows', help: 'Rows in the history index (counted after each pruning)', registers: [registry] }),
    memoryCollections: new Counter({ name: 'webhooks_memory_collections_total', help: 'Memory-reducing garbage collections run because RSS passed MEMORY_SOFT_LIMIT_MIB', registers: [registry] }),
    historyThreadHeap: new Gauge({
      name: 'webhooks_history_thread_heap_bytes',
      help: 'V8 heap of each history thread (role writer, indexer, and reader with the SQLite index): used, and total (committed)',
      labelNames: ['role', 'space'] as const,
      registers: [registry],
      async collect () {
        this.reset()
        for (const { role, used, total } of await sources?.historyThreadHeaps?.() ?? []) {
          this.set({ role, space: 'used' }, used)
          this.set({ role, space: 'total' }, total)
        }
      }
    }),
    historyPruned: new Counter({ name: 'webhooks_history_pruned_total', help: 'History index rows deleted by retention pruning', registers: [registry] }),
    replayScanned: new Counter({ name: 'webhooks_replay_records_scanned_total', help: 'Source records read by the replay jobs this instance runs', registers: [registry] }),
    replayDeliveries: new Counter({
      name: 'webhooks_replay_deliveries_total',
      help: 'Events settled by replay jobs on this instance: delivered, or parked on the retry lane (failed, or behind a failure of their account)',
      labelNames: ['outcome'] as const,
      registers: [registry]
    }),
    replayJobsRunning: new Gauge({ name: 'webhooks_replay_jobs_running', help: 'Replay jobs running on this instance (the owner of the jobs topic runs them all)', registers: [registry] })
  }

  for (const lane of lanes) {
    m.deliveries.inc({ outcome: 'delivered', status_class: '2xx', lane }, 0)
    for (const statusClass of failureClasses) m.deliveries.inc({ outcome: 'failed', status_class: statusClass, lane }, 0)
    for (const outcome of settleOutcomes) m.settled.inc({ outcome, lane }, 0)
  }
  for (const reader of batchReaders) for (const codec of knownCodecs) m.undecodableBatches.inc({ reader, codec }, 0)
  for (const reason of deadLetterReasons) m.deadLetters.inc({ reason }, 0)
  for (const reason of recordRefusalReasons) m.subscriptionRecordsRefused.inc({ reason }, 0)
  for (const reason of decodeFailureReasons) m.decodeErrors.inc({ reason }, 0)
  for (const reason of dropReasons) m.dropped.inc({ reason }, 0)
  for (const outcome of historyOutcomes) m.historyRecords.inc({ outcome }, 0)
  for (const cause of disableCauses) m.endpointDisables.inc({ cause }, 0)
  for (const outcome of ['delivered', 'parked']) m.replayDeliveries.inc({ outcome }, 0)
  m.attemptDuration.zero({ outcome: 'delivered' })
  m.attemptDuration.zero({ outcome: 'failed' })
  return m
}

export type Metrics = ReturnType<typeof createMetrics>
