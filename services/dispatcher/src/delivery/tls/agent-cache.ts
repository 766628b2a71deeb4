// One connection pool per distinct TLS material: requests of endpoints that
// share a client certificate and CA share keep-alive connections; different
// material never shares a socket (a TLS connection is bound to the client
// certificate it presented). Bounded, least recently used first out.
import type { DeliveryTlsMaterial } from '../types.js'
import { tlsMaterialKey } from './material.js'

export interface Closable {
  /** Lets in-flight requests finish, then closes every socket. */
  close: () => Promise<void>
}

export interface TlsAgentCacheOptions<A extends Closable> {
  /** Pools kept at most; the least recently used one is closed to make room. */
  maxSize: number
  /** Builds the pool for material not cached yet; may throw (nothing is cached then). */
  create: (tls: DeliveryTlsMaterial) => A
}

export interface TlsAgentCache<A extends Closable> {
  /**
   * The pool for this material, built on first use. Synchronous, so a caller
   * that dispatches on the pool in the same turn cannot see it evicted first;
   * an evicted pool still finishes the requests it already holds.
   */
  get: (tls: DeliveryTlsMaterial) => A
  /** Pools currently cached. */
  size: () => number
  /** Closes every pool, including ones still closing after eviction. Idempotent. */
  close: () => Promise<void>
}

export function createTlsAgentCache<A extends Closable> (options: TlsAgentCacheOptions<A>): TlsAgentCache<A> {
  const { maxSize, create } = options
  if (!Number.isSafeInteger(maxSize) || maxSize <= 0) throw new RangeError(`maxSize must be a positive integer, got ${maxSize}`)
  // Map iteration order is insertion order: re-inserting on use keeps the
  // least recently used entry first.
  const pools = new Map<string, A>()
  const evicting = new Set<Promise<void>>()
  let closing: Promise<void> | undefined

  function retire (pool: A): void {
    const closed = pool.close().catch(() => {}).finally(() => evicting.delete(closed))
    evicting.add(closed)
  }

  function get (tls: DeliveryTlsMaterial): A {
    if (closing !== undefined) throw new Error('the deliverer is closed')
    const key = tlsMaterialKey(tls)
    const cached = pools.get(key)
    if (cached !== undefined) {
      pools.delete(key)
      pools.set(key, cached)
      return cached
    }
    const pool = create(tls)
    while (pools.size >= maxSize) {
      const [oldestKey, oldest] = pools.entries().next().value as [string, A]
      pools.delete(oldestKey)
      retire(oldest)
    }
    pools.set(key, pool)
    return pool
  }

  function close (): Promise<void> {
    closing ??= (async () => {
      const open = [...pools.values()]
      pools.clear()
      // Each pool closes even if another fails to.
      await Promise.allSettled([...open.map((pool) => pool.close()), ...evicting])
    })()
    return closing
  }

  return { get, size: () => pools.size, close }
}
