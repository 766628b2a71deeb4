import type { IHeaders } from 'kafkajs'
import type { WebhookEventEnvelope } from '../delivery/payload.js'

/** A decoded source event: the envelope typed, the rest as the schema gives it. */
export interface DecodedEvent extends WebhookEventEnvelope {
  [field: string]: unknown
}

/** Where a record was read from. Offsets are int64, kept as bigint. */
export interface RecordCoordinates {
  topic: string
  partition: number
  offset: bigint
}

/** The original source record, carried along so parking and dead-lettering lose nothing. */
export interface RawRecord {
  key: Buffer | null
  value: Buffer | null
  headers: IHeaders
  /** Kafka record timestamp, ms since the epoch. */
  timestamp: number
}

/**
 * One delivery: one event to one subscription. Created by a source lane from
 * a record, or by a retry lane from a parked record; the same shape in both so
 * parking, retrying and dead-lettering share one code path.
 */
export interface DeliveryTask {
  /** The event id; the `webhook-id` header on every attempt (DESIGN C4). */
  webhookId: string
  subscriptionId: string
  tenantId: string
  accountId: string
  eventType: string
  /** Event time, ms since the epoch, for end-to-end lag. */
  occurredAt: number
  /** The signed JSON body. */
  body: string
  /** The source record this delivery came from (also for parked ones). */
  source: RecordCoordinates
  record: RawRecord
  /** Attempts made so far, over all lanes. */
  attempts: number
  /** First failed attempt, ms since the epoch: the backoff clock. */
  firstFailureAt?: number
  /**
   * When its last attempt failed: its next attempt is scheduled from then, so
   * a lane that reads it back later (under load, after a handover or a
   * restart) keeps the slot it was given rather than skipping to the next.
   */
  lastFailureAt?: number
  lastStatus?: number
  lastError?: string
  /** Not to be attempted before (ms since the epoch): the endpoint's Retry-After. */
  notBefore?: number
  /** When a redrive put it back in a retry lane. */
  redrivenAt?: number
}

/** What a dead letter records about the delivery that failed, when there was one. */
export interface DeliveryState {
  subscriptionId?: string
  attempts: number
  firstFailureAt?: number
  lastFailureAt?: number
  lastStatus?: number
  lastError?: string
  /** When a redrive put it back in a retry lane (its history lane is then `redrive`). */
  redrivenAt?: number
}

/** What became of a delivery, as far as the lane that owns it is concerned. */
export type TaskOutcome =
  | { kind: 'delivered' }
  | { kind: 'failed', retryAfterMs?: number, endpointGone: boolean }
  | { kind: 'dropped', reason: 'subscription-deleted' }
  | { kind: 'dead-letter', reason: 'endpoint-disabled' | 'endpoint-quarantined' | 'retries-exhausted' }
  /**
   * Not attempted: the endpoint is paused or its circuit is open. The source
   * lane parks it (and the key), the retry lane holds the key until `until`
   * (circuit) or until the endpoint resumes (pause). Not a failure: no
   * attempt is counted and no backoff starts.
   */
  | { kind: 'held', reason: 'paused' | 'circuit-open', until?: number }

/** A delivery of `event` to one subscription, from the record at `source`; no attempt made yet. */
export function newDeliveryTask (event: DecodedEvent, subscriptionId: string, body: string, source: RecordCoordinates, record: RawRecord): DeliveryTask {
  return {
    webhookId: event.eventId,
    subscriptionId,
    tenantId: event.tenantId,
    accountId: event.accountId,
    eventType: event.eventType,
    occurredAt: event.occurredAt.getTime(),
    body,
    source,
    record,
    attempts: 0
  }
}
