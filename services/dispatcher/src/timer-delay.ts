/**
 * Node's timers hold at most 2^31 - 1 ms (24.8 days). A longer delay is
 * taken as 1 ms, with a TimeoutOverflowWarning each time, so a far deadline
 * (a tiny rate limit, a long backoff) would fire every millisecond. Every
 * timer the engine arms goes through this: it fires at most once per 24.8
 * days and re-arms for what is left.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1

/** `ms`, clamped to what a Node timer can hold (and to 0 from below). */
export function timerDelay (ms: number): number {
  if (!Number.isFinite(ms)) return ms > 0 ? MAX_TIMER_DELAY_MS : 0
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, ms))
}
