/**
 * When the dispatcher asks V8 for a memory-reducing collection (reducer.ts).
 * V8 sizes each heap for speed and collects lazily, and malloc keeps freed
 * memory it cannot trim: after a burst — a backlog of an endpoint's
 * deliveries parked at once — a process holding 1,000,000 parked deliveries
 * sat at 1.3–1.5 times the RSS a full collection brings it back to
 * (bench/backlog.md). Neither knows a container's memory limit. So once RSS
 * passes MEMORY_SOFT_LIMIT_MIB, the dispatcher collects: at most every
 * {@link MIN_INTERVAL_MS}; after a collection that left RSS above the limit
 * (what is held then is mostly live), again only when RSS has grown by a
 * tenth — the burst goes on — or {@link RESTATE_INTERVAL_MS} later, when
 * the burst's garbage has settled, at the cost of one pause a minute while
 * the dispatcher holds more than the limit. Only while it is quiet (below
 * {@link QUIET_PER_SECOND} attempts and settles a second): a collection
 * pauses the delivery thread for 0.1–0.2 s, which a busy dispatcher's
 * latency would show (W1's p99 at 1,000 events/s went from 30 to 54 ms),
 * and a busy process's garbage is V8's to collect as it goes.
 */

/** Shortest time between two collections (each pauses a thread for tens to a few hundred ms). */
export const MIN_INTERVAL_MS = 10_000
/** Growth since the last collection, when that one left RSS above the limit, that calls for another. */
export const GROWTH_BEFORE_AGAIN = 1.1
/** Time after which RSS still above the limit calls for another collection, grown or not. */
export const RESTATE_INTERVAL_MS = 60_000
/** Attempts and settles a second above which the dispatcher is too busy for a pause. */
export const QUIET_PER_SECOND = 20

export interface LastCollection {
  /** When it ran (ms). */
  at: number
  /** RSS right after it (bytes). */
  rssAfter: number
}

export function shouldCollect (rss: number, now: number, softLimitBytes: number, last: LastCollection | undefined, workPerSecond = 0): boolean {
  if (softLimitBytes <= 0 || rss < softLimitBytes || workPerSecond > QUIET_PER_SECOND) return false
  if (last === undefined) return true
  const since = now - last.at
  if (since < MIN_INTERVAL_MS) return false
  return last.rssAfter < softLimitBytes || rss >= last.rssAfter * GROWTH_BEFORE_AGAIN || since >= RESTATE_INTERVAL_MS
}
