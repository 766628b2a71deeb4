import { nextAttemptAt, type NextAttempt } from '../delivery/backoff.js'
import type { DeliveryState } from './delivery-task.js'

/** The least a receiver's `Retry-After` delays the next attempt (unless RETRY_AFTER_MAX_MS is smaller). */
const RETRY_AFTER_FLOOR_MS = 1000

export interface RetryPolicyOptions {
  /** RETRY_SCHEDULE_MS: gaps between attempts; the last repeats. */
  scheduleMs: readonly number[]
  /** RETRY_MAX_AGE_SECONDS in milliseconds: nothing is attempted later than first failure + this. */
  maxAgeMs: number
  /** RETRY_AFTER_MAX_MS: upper clamp of a receiver's `Retry-After`. */
  retryAfterMaxMs: number
  /**
   * Jitter source; inject one for deterministic tests. By default the jitter
   * of an attempt is a hash of the delivery (event, subscription, attempt
   * count): the same delivery gets the same time whenever it is computed —
   * by the attempt that failed (for the history), and again by the retry
   * lane that schedules it, even after a restart — while different
   * deliveries still spread out.
   */
  random?: () => number
}

/** What identifies a delivery's attempt for its jitter. */
export type JitterKey = Pick<DeliveryState, 'firstFailureAt' | 'attempts'> & { webhookId?: string, subscriptionId?: string }

/** A number in [0, 1) fixed by the delivery and its attempt count (FNV-1a). */
export function deliveryJitter (delivery: JitterKey): number {
  const text = `${delivery.webhookId ?? ''}\u0000${delivery.subscriptionId ?? ''}\u0000${delivery.attempts}`
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash / 0x1_0000_0000
}

/**
 * Every timing rule of retries in one place, made once from config: when a
 * failed delivery is next attempted, when it is out of time, and how a
 * receiver's `Retry-After` is clamped. Times are epoch milliseconds.
 */
export interface RetryPolicy {
  readonly maxAgeMs: number
  /** The next attempt of a delivery that has failed `attempts` times, or `exhausted`. */
  next: (delivery: JitterKey, now: number, retryAfterMs?: number) => NextAttempt
  /** Whether a delivery that has failed before is past its max age. */
  expired: (delivery: Pick<DeliveryState, 'firstFailureAt'>, now: number) => boolean
  /** When a delivery that first failed at `firstFailureAt` runs out of time. */
  deadline: (firstFailureAt: number) => number
  /** A receiver's `Retry-After` delay, clamped to [1 s, RETRY_AFTER_MAX_MS]. */
  clampRetryAfter: (retryAfterMs: number) => number
}

export function createRetryPolicy ({ scheduleMs, maxAgeMs, retryAfterMaxMs, random }: RetryPolicyOptions): RetryPolicy {
  const retryAfterMinMs = Math.min(RETRY_AFTER_FLOOR_MS, retryAfterMaxMs)
  return {
    maxAgeMs,
    next: (delivery, now, retryAfterMs) => nextAttemptAt({
      firstFailureAt: delivery.firstFailureAt ?? now,
      attempts: Math.max(1, delivery.attempts),
      now,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      random: random ?? (() => deliveryJitter(delivery)),
      schedule: scheduleMs,
      maxAgeMs,
      retryAfterMinMs,
      retryAfterMaxMs
    }),
    expired: (delivery, now) => delivery.firstFailureAt !== undefined && now >= delivery.firstFailureAt + maxAgeMs,
    deadline: (firstFailureAt) => firstFailureAt + maxAgeMs,
    clampRetryAfter: (retryAfterMs) => Math.min(Math.max(retryAfterMs, retryAfterMinMs), retryAfterMaxMs)
  }
}
