/**
 * How many events a rate-limited sender owes at a moment: the events a
 * steady `rate` would have sent since the start, minus those sent, capped
 * per batch and by the total. Catching up after a slow send is bounded by
 * `maxBatch` per step.
 */
export function eventsDue (options: {
  elapsedMs: number
  /** Events per second. */
  rate: number
  /** Events generated so far. */
  generated: number
  /** Total to generate; 0 = unbounded. */
  count: number
  maxBatch: number
}): number {
  const { elapsedMs, rate, generated, count, maxBatch } = options
  const owed = Math.floor((elapsedMs / 1000) * rate) - generated
  const left = count === 0 ? Number.POSITIVE_INFINITY : count - generated
  return Math.max(0, Math.min(owed, left, maxBatch))
}

/** Milliseconds until the next event is owed. */
export function msUntilNextEvent (options: { elapsedMs: number, rate: number, generated: number }): number {
  const { elapsedMs, rate, generated } = options
  return Math.max(0, ((generated + 1) / rate) * 1000 - elapsedMs)
}
