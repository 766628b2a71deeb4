// Per-tenant quotas of the admin API: how many endpoints a tenant may have,
// how many test events it may send, how many requests a token may make.
// Pure decisions over an injected clock; the server answers 409 / 429.
//
// Costs: one bucket per key (a tenant, or an operator token), O(1) per
// request; idle buckets are dropped once the map holds MAX_KEYS of them,
// which loses nothing (an idle bucket is full, as a new one is).

/** The admin API's quotas; `loadConfig` reads them from ADMIN_* variables. */
export interface AdminQuotas {
  /**
   * Endpoints one tenant may have (ADMIN_MAX_ENDPOINTS_PER_TENANT). Every
   * endpoint is one more delivery of each matching event and is held in
   * every instance's memory.
   * @defaultValue 20
   */
  maxEndpointsPerTenant: number
  /**
   * `POST …/test` calls per tenant and minute, with a burst of as many
   * (ADMIN_TEST_EVENTS_PER_MINUTE). A test event is a signed POST to any
   * public host the tenant names.
   * @defaultValue 10
   */
  testEventsPerMinute: number
  /**
   * Sustained authenticated requests per second per tenant (all its tokens
   * together) or per operator token (ADMIN_REQUESTS_PER_SECOND).
   * @defaultValue 20
   */
  requestsPerSecond: number
  /**
   * Requests one tenant or operator token may make at once before the rate
   * applies (ADMIN_REQUEST_BURST).
   * @defaultValue 100
   */
  requestBurst: number
}

export const DEFAULT_ADMIN_QUOTAS: Readonly<AdminQuotas> = Object.freeze({
  maxEndpointsPerTenant: 20,
  testEventsPerMinute: 10,
  requestsPerSecond: 20,
  requestBurst: 100
})

const MAX_KEYS = 10_000

interface Bucket { tokens: number, at: number }

/**
 * A token bucket per key: `burst` tokens, refilled at `perMs` tokens a
 * millisecond. `take` spends one token, or answers how long until one is
 * there.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor (private readonly options: { perMs: number, burst: number, now: () => number }) {}

  /** 0 when the call may go ahead (a token was spent), else the milliseconds until a token is there. */
  take (key: string): number {
    const now = this.options.now()
    const { perMs, burst } = this.options
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now }
    // A clock that went back refills nothing.
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, now - bucket.at) * perMs)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      this.remember(key, bucket, now)
      return 0
    }
    this.remember(key, bucket, now)
    return Math.ceil((1 - bucket.tokens) / perMs)
  }

  private remember (key: string, bucket: Bucket, now: number): void {
    this.buckets.set(key, bucket)
    if (this.buckets.size <= MAX_KEYS) return
    const fullAfterMs = this.options.burst / this.options.perMs
    for (const [other, b] of this.buckets) {
      if (now - b.at >= fullAfterMs) this.buckets.delete(other)
    }
  }
}

/** Whole seconds to wait, as `Retry-After` says it (RFC 9110 §10.2.3): at least 1. */
export const retryAfterSeconds = (waitMs: number): number => Math.max(1, Math.ceil(waitMs / 1000))
