import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * The dispatcher's Prometheus metrics, on one registry passed around (not the
 * global default). Names are prefixed `webhooks_`, in base units; labels have
 * bounded values only (no tenant or endpoint ids).
 */
export function createMetrics () {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'webhooks_process_' })

  const m = {
    registry,
    deliveries: new Counter({
      name: 'webhooks_deliveries_total',
      help: 'Delivery attempts by outcome (delivered, failed) and status class',
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
      help: 'Records or deliveries dropped by an explicit rule',
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
    registryErrors: new Counter({ name: 'webhooks_registry_errors_total', help: 'Schema registry lookups that failed (registry unreachable)', registers: [registry] }),
    parkedBacklog: new Gauge({
      name: 'webhooks_parked_backlog',
      help: 'Parked deliveries held by retry lanes, per source topic',
      labelNames: ['topic'] as const,
      registers: [registry]
    }),
    commitFailures: new Counter({ name: 'webhooks_commit_failures_total', help: 'Offset commits that failed', registers: [registry] }),
    commits: new Counter({ name: 'webhooks_commits_total', help: 'Offset commits written', registers: [registry] }),
    rebalances: new Counter({ name: 'webhooks_rebalances_total', help: 'Consumer group joins of this member', registers: [registry] }),
    lastProcessed: new Gauge({ name: 'webhooks_last_processed_timestamp_seconds', help: 'When a delivery last settled', registers: [registry] }),
    assignedPartitions: new Gauge({ name: 'webhooks_assigned_partitions', help: 'Source partitions assigned to this member', registers: [registry] })
  }
  return m
}

export type Metrics = ReturnType<typeof createMetrics>
