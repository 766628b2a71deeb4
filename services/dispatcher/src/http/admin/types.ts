// The narrow seams the admin API depends on, besides the subscription store.
// main.ts wires the Kafka- and HTTP-backed implementations; tests pass fakes.
import type { Subscription } from '../../subscriptions/types.js'

export type { DeadLetter, DeadLetterOperations, DeadLetterRedriveCounts } from '../../dead-letters/view.js'
export type { ReplayOperations } from '../../engine/replay-job.js'

/** The outcome of one `webhook.test` delivery. */
export type TestEventResult =
  /** The endpoint answered with `status`. */
  | { status: number, durationMs: number }
  /** No HTTP response: timeout, connection refused, SSRF blocked, TLS error. */
  | { error: string, durationMs?: number }

/** Sends a `webhook.test` event to the endpoint, signed with its current secrets. */
export type SendTestEvent = (subscription: Subscription) => Promise<TestEventResult>

export type CircuitState = 'closed' | 'open' | 'half-open'

/** Recent delivery health of one endpoint, as the engine sees it. */
export interface EndpointHealth {
  recentSuccesses: number
  recentFailures: number
  lastError?: string
  /** Epoch milliseconds. */
  lastAttemptAt?: number
  circuit: CircuitState
  disabledReason?: string
}

/** What reading an event's source record back from Kafka found. */
export type EventPayloadRead =
  /** The webhook body, rendered from the record as the dispatcher sends it. */
  | { kind: 'found', body: string }
  /** Retention has removed the record (or it is not that event any more). */
  | { kind: 'gone' }

/** Reads an event's source record at its coordinates and renders its webhook body. */
export type ReadEventPayload = (eventId: string, source: { topic: string, partition: number, offset: bigint }) => Promise<EventPayloadRead>

export type EndpointStatusSource = (id: string) => EndpointHealth | Promise<EndpointHealth>

/** The event a resend sends again: what the history knows of it. */
export interface ResendEventRef {
  eventId: string
  eventType: string
  tenantId: string
  accountId: string
  /** Epoch milliseconds. */
  occurredAt: number
  source: { topic: string, partition: number, offset: bigint }
}

/** One endpoint a resend goes to, and the number its attempt gets in the history. */
export interface ResendTarget {
  subscription: Subscription
  attemptNumber: number
}

export type ResendOutcome =
  /** Retention has removed the record (or the offset holds another event): nothing was sent. */
  | { kind: 'gone' }
  /** One attempt per target, in the targets' order. */
  | { kind: 'sent', results: TestEventResult[] }

/**
 * Reads the event's record back from Kafka and delivers it once to each
 * target with its original `webhook-id`, recording each attempt in the
 * history (lane `manual`). Out of band: not ordered against live traffic.
 */
export type ResendEvent = (event: ResendEventRef, targets: readonly ResendTarget[]) => Promise<ResendOutcome>
