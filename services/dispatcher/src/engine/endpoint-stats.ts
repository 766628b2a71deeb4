/**
 * Recent attempt results per endpoint, for the admin API's endpoint status:
 * successes and failures over the last `windowMinutes` (one-minute buckets),
 * the last error and the last attempt time. Pure; the caller passes the time.
 */
export interface EndpointStatsView {
  recentSuccesses: number
  recentFailures: number
  lastError?: string
  lastAttemptAt?: number
}

interface Stats {
  /** [minute, successes, failures] per bucket, oldest first. */
  buckets: Array<[number, number, number]>
  lastError?: string
  lastAttemptAt?: number
}

export class EndpointStats {
  readonly #stats = new Map<string, Stats>()
  readonly #windowMinutes: number

  constructor (windowMinutes = 15) {
    this.#windowMinutes = windowMinutes
  }

  record (endpoint: string, success: boolean, now: number, error?: string): void {
    let stats = this.#stats.get(endpoint)
    if (stats === undefined) {
      stats = { buckets: [] }
      this.#stats.set(endpoint, stats)
    }
    const minute = Math.floor(now / 60_000)
    let bucket = stats.buckets.at(-1)
    if (bucket === undefined || bucket[0] !== minute) {
      bucket = [minute, 0, 0]
      stats.buckets.push(bucket)
    }
    if (success) bucket[1]++
    else {
      bucket[2]++
      if (error !== undefined) stats.lastError = error
    }
    stats.lastAttemptAt = now
    while (stats.buckets.length > 0 && (stats.buckets[0] as [number, number, number])[0] <= minute - this.#windowMinutes) stats.buckets.shift()
  }

  view (endpoint: string, now: number): EndpointStatsView {
    const stats = this.#stats.get(endpoint)
    const since = Math.floor(now / 60_000) - this.#windowMinutes
    let recentSuccesses = 0
    let recentFailures = 0
    for (const [minute, ok, failed] of stats?.buckets ?? []) {
      if (minute <= since) continue
      recentSuccesses += ok
      recentFailures += failed
    }
    const view: EndpointStatsView = { recentSuccesses, recentFailures }
    if (stats?.lastError !== undefined) view.lastError = stats.lastError
    if (stats?.lastAttemptAt !== undefined) view.lastAttemptAt = stats.lastAttemptAt
    return view
  }
}
