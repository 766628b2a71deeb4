// Pure arithmetic of the benchmark: rates, ratios, percentiles.

/** A measured rate: `count` items between the first and the last one. */
export interface Rate {
  count: number
  /** Epoch ms of the first and last item; undefined when nothing was seen. */
  firstAt: number | undefined
  lastAt: number | undefined
  /** Items per second over [firstAt, lastAt]; NaN when that span is empty. */
  perSecond: number
  /** The whole workload was covered (false: a time budget cut it short). */
  complete: boolean
}

/**
 * Throughput from the first to the last item, the way a pre-produced backlog
 * is measured: start-up (group join, first fetch) is not counted.
 */
export function rateOf (count: number, firstAt: number | undefined, lastAt: number | undefined, complete: boolean): Rate {
  const spanMs = firstAt === undefined || lastAt === undefined ? 0 : lastAt - firstAt
  return { count, firstAt, lastAt, perSecond: count > 1 && spanMs > 0 ? count / (spanMs / 1000) : Number.NaN, complete }
}

/** a / b, NaN when either is not a positive number. */
export function ratio (a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN
}

/** Nearest-rank percentile (p in [0, 100]); NaN for no values. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number
}
