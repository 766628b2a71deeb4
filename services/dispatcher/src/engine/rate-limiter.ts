/**
 * Token buckets per endpoint: `ratePerSecond` tokens a second, bursts up to
 * one second's worth. Pure; the caller passes the time.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number, at: number }>()

  /** Takes a token if one is available; otherwise returns when the next one will be. */
  tryTake (endpoint: string, ratePerSecond: number, now: number): { ok: true } | { ok: false, retryAt: number } {
    const capacity = Math.max(1, ratePerSecond)
    let bucket = this.#buckets.get(endpoint)
    if (bucket === undefined) {
      bucket = { tokens: capacity, at: now }
      this.#buckets.set(endpoint, bucket)
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAt: now + Math.ceil(((1 - bucket.tokens) / ratePerSecond) * 1000) }
  }

  forget (endpoint: string): void {
    this.#buckets.delete(endpoint)
  }
}
