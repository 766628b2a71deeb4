/**
 * Per-endpoint circuit breakers (DESIGN §4): after `failureThreshold`
 * consecutive failed attempts an endpoint's circuit opens; while open its
 * deliveries are parked at once instead of burning concurrency on timeouts.
 * After the cool-down one probe is let through (half-open): success closes
 * the circuit, failure opens it again for twice as long (up to a cap).
 * Pure state; the caller passes the time.
 */
export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @defaultValue 10 */
  failureThreshold?: number
  /** First open period. @defaultValue 30 s */
  initialOpenMs?: number
  /** Longest open period. @defaultValue 10 min */
  maxOpenMs?: number
  /** While a probe runs, other attempts are held this long before asking again. @defaultValue 1 s */
  probeWaitMs?: number
}

interface Breaker {
  consecutiveFailures: number
  /** Start of the current run of failures (for auto-disable). */
  failingSince: number | undefined
  openUntil: number
  openMs: number
  probing: boolean
}

export type AttemptGate = { allow: true, probe: boolean } | { allow: false, until: number }

export class CircuitBreakers {
  readonly #breakers = new Map<string, Breaker>()
  readonly #threshold: number
  readonly #initialOpenMs: number
  readonly #maxOpenMs: number
  readonly #probeWaitMs: number

  constructor ({ failureThreshold = 10, initialOpenMs = 30_000, maxOpenMs = 600_000, probeWaitMs = 1000 }: CircuitBreakerOptions = {}) {
    this.#threshold = failureThreshold
    this.#initialOpenMs = initialOpenMs
    this.#maxOpenMs = maxOpenMs
    this.#probeWaitMs = probeWaitMs
  }

  state (endpoint: string, now: number): CircuitState {
    const b = this.#breakers.get(endpoint)
    if (b === undefined || b.openUntil === 0) return 'closed'
    return now < b.openUntil ? 'open' : 'half-open'
  }

  /** Whether an attempt may start now; a half-open circuit lets exactly one probe through. */
  beforeAttempt (endpoint: string, now: number): AttemptGate {
    const b = this.#breakers.get(endpoint)
    if (b === undefined || b.openUntil === 0) return { allow: true, probe: false }
    if (now < b.openUntil) return { allow: false, until: b.openUntil }
    if (b.probing) return { allow: false, until: now + this.#probeWaitMs }
    b.probing = true
    return { allow: true, probe: true }
  }

  /**
   * Records an attempt's result (not held or skipped ones). `probe` says the
   * attempt was the half-open probe that {@link beforeAttempt} let through.
   */
  record (endpoint: string, success: boolean, now: number, probe = false): void {
    let b = this.#breakers.get(endpoint)
    if (success) {
      // Closed and healthy again: forget the endpoint entirely.
      this.#breakers.delete(endpoint)
      return
    }
    if (b === undefined) {
      b = { consecutiveFailures: 0, failingSince: now, openUntil: 0, openMs: 0, probing: false }
      this.#breakers.set(endpoint, b)
    }
    b.consecutiveFailures++
    if (probe) {
      // The probe failed: open again, for longer.
      b.probing = false
      b.openMs = Math.min(this.#maxOpenMs, Math.max(this.#initialOpenMs, b.openMs * 2))
      b.openUntil = now + b.openMs
      return
    }
    // Attempts that started before the circuit opened and fail afterwards
    // change nothing: only the probe decides.
    if (b.openUntil !== 0) return
    if (b.consecutiveFailures >= this.#threshold) {
      b.openMs = this.#initialOpenMs
      b.openUntil = now + b.openMs
    }
  }

  /** When the endpoint's current run of failures began, if it is failing. */
  failingSince (endpoint: string): number | undefined {
    return this.#breakers.get(endpoint)?.failingSince
  }

  /** Endpoints per state, for metrics; `endpoints` lists every known endpoint. */
  countStates (endpoints: Iterable<string>, now: number): Record<CircuitState, number> {
    const counts: Record<CircuitState, number> = { closed: 0, open: 0, 'half-open': 0 }
    for (const endpoint of endpoints) counts[this.state(endpoint, now)]++
    return counts
  }

  forget (endpoint: string): void {
    this.#breakers.delete(endpoint)
  }
}
