// The narrow seams the admin API depends on, besides the subscription store.
// main.ts wires the Kafka- and HTTP-backed implementations; tests pass fakes.
import type { DeliveryState } from '../../engine/delivery-task.js'
import type { DeadLetterSummary, RedriveFilter } from '../../redrive/filter.js'
import type { Subscription } from '../../subscriptions/types.js'

/**
 * One dead letter as the admin API lists it: where it sits, what it says
 * about itself ({@link DeadLetterSummary}) and the failed delivery's state;
 * metadata only, never the payload. `lastError` is written by the
 * dispatcher's classifier, never a response body.
 */
export interface DeadLetter extends DeadLetterSummary, Omit<DeliveryState, 'attempts' | 'subscriptionId'> {
  /** Where the dead letter itself sits. */
  topic: string
  partition: number
  offset: string
  attempts?: number
}

/** Counts of a redrive (a subset of `RedriveResult` from `redrive/run.ts`). */
export interface DeadLetterRedriveCounts {
  scanned: number
  matched: number
  redriven: number
  skipped: number
  /** False when the scan stopped early. */
  complete?: boolean
  skippedByReason?: Partial<Record<string, number>>
}

/**
 * Dead-letter operations. The API always passes a filter already narrowed to
 * the caller's scope: for a tenant token `subscriptionIds` is a non-empty
 * list of that tenant's subscriptions (an empty list would match every
 * letter, so the API never passes one).
 */
export interface DeadLetterOperations {
  /** Up to `limit` dead letters matching `filter`, oldest first. */
  list: (filter: RedriveFilter, limit: number) => Promise<readonly DeadLetter[]>
  /** Moves the matching dead letters back into the retry lane (`redrive()` in `redrive/run.ts`). */
  redrive: (filter: RedriveFilter, dryRun: boolean) => Promise<DeadLetterRedriveCounts>
}

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

export type EndpointStatusSource = (id: string) => EndpointHealth | Promise<EndpointHealth>
