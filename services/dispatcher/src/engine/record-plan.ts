import type { Logger } from 'pino'
import { toWebhookBody } from '../delivery/payload.js'
import type { Metrics } from '../metrics.js'
import { matchSubscriptions } from '../subscriptions/match.js'
import type { SubscriptionSource } from '../subscriptions/types.js'
import { newDeliveryTask, type DecodedEvent, type RawRecord, type RecordCoordinates } from './delivery-task.js'
import { readNotBefore, readParkedState, type ParkedState } from './parked-record.js'
import type { RetryPlan } from './retry-lane.js'
import type { RecordPlan } from './source-lane.js'

/**
 * Turns a record value into an event. Rejects with a `WHD_ERR_DECODE` error
 * (with a `reason`) for bad input, dead-lettered (C5), and with
 * `WHD_ERR_REGISTRY_UNAVAILABLE` when the registry cannot be asked (the
 * partition pauses; nothing is dead-lettered). kafka/decode.ts makes one.
 */
export type RecordDecoder = (value: Buffer | null) => Promise<DecodedEvent>

/** Not now: pause the partition and read the record again after `delayMs`. */
export interface Later { kind: 'later', delayMs: number }

export interface RecordPlannerOptions {
  decode: RecordDecoder
  subscriptions: SubscriptionSource
  metrics: Pick<Metrics, 'registryErrors' | 'decodeErrors' | 'dropped'>
  /** SCHEMA_LOOKUP_RETRIES: lookups of an unknown schema id before the record is dead-lettered. */
  schemaLookupRetries: number
  log: Logger
}

const REGISTRY_OUTAGE_PAUSE_MS = 1000
/** The n-th lookup of an unknown schema id waits n × this first. */
const SCHEMA_LOOKUP_BACKOFF_MS = 500

type Decoded = { kind: 'event', event: DecodedEvent } | Later | { kind: 'bad', reason: string, detail: string }

/**
 * What to do with a record read from a source or a retry partition, before
 * any lane takes it: decode it, then match it (source) or rebuild its
 * delivery (retry). Bad input is dead-lettered with its reason; a registry
 * outage or an unknown schema id (still being looked up) means "later".
 */
export interface RecordPlanner {
  /** A source record read at `at`; `schemaMisses` counts its lookups of an unknown schema id, by offset (per partition). */
  planSource: (record: RawRecord, at: RecordCoordinates, schemaMisses: Map<bigint, number>) => Promise<RecordPlan | Later>
  /** A parked record read back at `at` on the retry topic. */
  planParked: (record: RawRecord, at: RecordCoordinates) => Promise<RetryPlan | Later>
}

export function createRecordPlanner (o: RecordPlannerOptions): RecordPlanner {
  async function decode (value: Buffer | null): Promise<Decoded> {
    try {
      return { kind: 'event', event: await o.decode(value) }
    } catch (err) {
      if ((err as { code?: string }).code === 'WHD_ERR_REGISTRY_UNAVAILABLE') {
        o.metrics.registryErrors.inc()
        o.log.warn({ err }, 'schema registry unavailable; pausing partition')
        return { kind: 'later', delayMs: REGISTRY_OUTAGE_PAUSE_MS }
      }
      const { reason, message } = err as { reason?: string, message?: string }
      return { kind: 'bad', reason: reason ?? 'corrupt-avro', detail: message ?? String(err) }
    }
  }

  return {
    async planSource (record, at, schemaMisses) {
      const { offset } = at
      const decoded = await decode(record.value)
      if (decoded.kind === 'later') return decoded
      if (decoded.kind === 'bad') {
        if (decoded.reason === 'unknown-schema-id') {
          const misses = (schemaMisses.get(offset) ?? 0) + 1
          schemaMisses.set(offset, misses)
          if (misses <= o.schemaLookupRetries) return { kind: 'later', delayMs: SCHEMA_LOOKUP_BACKOFF_MS * misses }
        }
        schemaMisses.delete(offset)
        o.metrics.decodeErrors.inc({ reason: decoded.reason })
        o.log.warn({ topic: at.topic, partition: at.partition, offset: offset.toString(), reason: decoded.reason, detail: decoded.detail }, 'undecodable record; dead-lettering')
        return { kind: 'dead-letter', reason: decoded.reason, detail: decoded.detail }
      }
      schemaMisses.delete(offset)
      const { event } = decoded
      const subscriptions = matchSubscriptions(o.subscriptions.forTenant(event.tenantId), event)
      if (subscriptions.length === 0) {
        o.metrics.dropped.inc({ reason: 'no-subscription' })
        return { kind: 'drop', reason: 'no-subscription' }
      }
      return { kind: 'deliver', event, body: toWebhookBody(event), subscriptions }
    },

    async planParked (record, at) {
      let state: ParkedState
      try {
        state = readParkedState(record)
      } catch {
        // Not written by a dispatcher: keep it, with where it sat, for an operator.
        return { kind: 'dead-letter', reason: 'malformed-parked-record', source: at, record }
      }
      const subscriptionId = state.subscriptionId
      if (subscriptionId === undefined) {
        return { kind: 'dead-letter', reason: 'malformed-parked-record', source: state.source, record: state.record, delivery: state }
      }
      const decoded = await decode(state.record.value)
      if (decoded.kind === 'later') return decoded
      if (decoded.kind === 'bad') {
        o.metrics.decodeErrors.inc({ reason: decoded.reason })
        return { kind: 'dead-letter', reason: decoded.reason, detail: decoded.detail, source: state.source, record: state.record, delivery: state }
      }
      if (o.subscriptions.get(subscriptionId) === undefined) {
        o.metrics.dropped.inc({ reason: 'subscription-deleted' })
        return { kind: 'drop', reason: 'subscription-deleted' }
      }
      const task = newDeliveryTask(decoded.event, subscriptionId, toWebhookBody(decoded.event), state.source, state.record)
      task.attempts = state.attempts
      if (state.firstFailureAt !== undefined) task.firstFailureAt = state.firstFailureAt
      if (state.lastFailureAt !== undefined) task.lastFailureAt = state.lastFailureAt
      if (state.lastStatus !== undefined) task.lastStatus = state.lastStatus
      if (state.lastError !== undefined) task.lastError = state.lastError
      if (state.redrivenAt !== undefined) task.redrivenAt = state.redrivenAt
      const notBefore = readNotBefore(record.headers)
      if (notBefore !== undefined) task.notBefore = notBefore
      return { kind: 'retry', task }
    }
  }
}
