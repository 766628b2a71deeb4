// A bounded cache of connection pools (undici agents), built on first use:
// one per endpoint pool and TLS material (http-deliverer.ts), and one secure
// context per TLS material. The least recently used entry is closed when the
// cache is full, and an entry unused for `idleMs` is closed too.
//
// Closing is graceful: a pool closed here still finishes the requests it
// already holds, and the next request for its key gets a fresh pool. For as
// long as both exist (at most one attempt deadline), a key can have twice its
// sockets open; that is the price of never failing a request on eviction.

export interface Closable {
  /** Lets in-flight requests finish, then closes every socket. */
  close: () => Promise<void>
}

export interface PoolCacheOptions<K, A extends Closable> {
  /** Entries kept at most; the least recently used one is closed to make room. */
  maxSize: number
  /** An entry not asked for during this long is closed. @defaultValue Infinity (never) */
  idleMs?: number
  /** The cache key of a request for a pool. */
  keyOf: (key: K) => string
  /** Builds the entry for a key not cached yet; may throw (nothing is cached then). */
  create: (key: K) => A
  /** Monotonic milliseconds, for idleness. @defaultValue performance.now */
  now?: () => number
}

export interface PoolCache<K, A extends Closable> {
  /**
   * The entry for this key, built on first use. Synchronous, so a caller
   * that dispatches on the pool in the same turn cannot see it closed first;
   * a closed pool still finishes the requests it already holds.
   */
  get: (key: K) => A
  /** Entries currently cached. */
  size: () => number
  /** Closes the entries idle for `idleMs` or longer. `get` does it too; a timer calls it while traffic stops. */
  sweep: () => void
  /** Closes every entry, including ones still closing after eviction. Idempotent. */
  close: () => Promise<void>
}

export function createPoolCache<K, A extends Closable> (options: PoolCacheOptions<K, A>): PoolCache<K, A> {
  const { maxSize, keyOf, create } = options
  const idleMs = options.idleMs ?? Infinity
  const now = options.now ?? (() => performance.now())
  if (!Number.isSafeInteger(maxSize) || maxSize <= 0) throw new RangeError(`maxSize must be a positive integer, got ${maxSize}`)
  if (!(idleMs > 0)) throw new RangeError(`idleMs must be positive, got ${idleMs}`)
  // Map iteration order is insertion order: re-inserting on use keeps the
  // least recently used entry first, so idle entries are found from the front.
  const entries = new Map<string, { pool: A, usedAt: number }>()
  const retiring = new Set<Promise<void>>()
  let closing: Promise<void> | undefined

  function retire (key: string, pool: A): void {
    entries.delete(key)
    const closed = pool.close().catch(() => {}).finally(() => retiring.delete(closed))
    retiring.add(closed)
  }

  function sweep (): void {
    const oldest = now() - idleMs
    for (const [key, entry] of entries) {
      if (entry.usedAt > oldest) return
      retire(key, entry.pool)
    }
  }

  // Without traffic nobody calls get(): a timer closes what went idle. It
  // never holds the process open.
  const timer = Number.isFinite(idleMs) ? setInterval(sweep, Math.max(1_000, Math.min(idleMs, 60_000))) : undefined
  timer?.unref()

  function get (request: K): A {
    if (closing !== undefined) throw new Error('the deliverer is closed')
    sweep()
    const key = keyOf(request)
    const cached = entries.get(key)
    if (cached !== undefined) {
      entries.delete(key)
      cached.usedAt = now()
      entries.set(key, cached)
      return cached.pool
    }
    const pool = create(request)
    while (entries.size >= maxSize) {
      const [oldestKey, oldest] = entries.entries().next().value as [string, { pool: A }]
      retire(oldestKey, oldest.pool)
    }
    entries.set(key, { pool, usedAt: now() })
    return pool
  }

  function close (): Promise<void> {
    closing ??= (async () => {
      clearInterval(timer)
      const open = [...entries.values()].map((entry) => entry.pool)
      entries.clear()
      // Each pool closes even if another fails to.
      await Promise.allSettled([...open.map((pool) => pool.close()), ...retiring])
    })()
    return closing
  }

  return { get, size: () => entries.size, sweep, close }
}
