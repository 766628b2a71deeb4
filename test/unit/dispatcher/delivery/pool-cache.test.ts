import { describe, expect, it } from 'vitest'
import { createPoolCache } from '../../../../services/dispatcher/src/delivery/pool-cache.js'

/** A pool that records its close and lets the test decide when closing ends. */
interface FakePool {
  name: string
  closed: boolean
  finishClose: () => void
  close: () => Promise<void>
}

function harness (maxSize: number, idleMs?: number) {
  let now = 0
  const made: FakePool[] = []
  const cache = createPoolCache<string, FakePool>({
    maxSize,
    ...(idleMs === undefined ? {} : { idleMs }),
    keyOf: (key) => key,
    create: (name) => {
      if (name === 'bad') throw new Error('cannot build')
      let finish = (): void => {}
      const pool: FakePool = {
        name,
        closed: false,
        finishClose: () => { finish() },
        close: async () => {
          pool.closed = true
          await new Promise<void>((resolve) => { finish = resolve })
        }
      }
      made.push(pool)
      return pool
    },
    now: () => now
  })
  return { cache, made, advance: (ms: number) => { now += ms } }
}

describe('pool cache', () => {
  it('builds a pool once per key and returns the same one after', () => {
    const { cache, made } = harness(4)
    const a = cache.get('a')
    expect(cache.get('a')).toBe(a)
    cache.get('b')
    expect(made.map((p) => p.name)).toEqual(['a', 'b'])
    expect(cache.size()).toBe(2)
  })

  it('keeps at most maxSize pools, closing the least recently used', () => {
    const { cache, made } = harness(2)
    const a = cache.get('a')
    const b = cache.get('b')
    cache.get('a') // a is now the most recently used
    const c = cache.get('c')
    expect(b.closed).toBe(true)
    expect(a.closed).toBe(false)
    expect(c.closed).toBe(false)
    expect(cache.size()).toBe(2)
    // An evicted key gets a fresh pool, evicting the next least recently used (a).
    const b2 = cache.get('b')
    expect(b2).not.toBe(b)
    expect(a.closed).toBe(true)
    expect(made.map((p) => p.name)).toEqual(['a', 'b', 'c', 'b'])
  })

  it('caches nothing when building throws', () => {
    const { cache } = harness(1)
    const a = cache.get('a')
    expect(() => cache.get('bad')).toThrow('cannot build')
    expect(cache.size()).toBe(1)
    expect(a.closed).toBe(false)
  })

  it('closes pools unused for idleMs, on the next get or sweep, and keeps those in use', () => {
    const { cache, advance } = harness(10, 1_000)
    const a = cache.get('a')
    const b = cache.get('b')
    advance(600)
    cache.get('b')
    advance(400)
    const c = cache.get('c')
    expect(a.closed).toBe(true)
    expect(b.closed).toBe(false)
    expect(cache.size()).toBe(2)
    advance(999)
    cache.sweep()
    expect(c.closed).toBe(false)
    expect(b.closed).toBe(true)
    advance(1)
    cache.sweep()
    expect(c.closed).toBe(true)
    expect(cache.size()).toBe(0)
    expect(cache.get('a')).not.toBe(a)
  })

  it('close() waits for every pool, including ones still closing after eviction, and is idempotent', async () => {
    const { cache, made } = harness(1)
    cache.get('a')
    cache.get('b') // evicts a, whose close has not finished
    let done = false
    const closing = cache.close()
    expect(cache.close()).toBe(closing)
    void closing.then(() => { done = true })
    expect(made.every((p) => p.closed)).toBe(true)
    made[1]?.finishClose()
    await new Promise((resolve) => setImmediate(resolve))
    expect(done).toBe(false)
    made[0]?.finishClose()
    await closing
    expect(done).toBe(true)
    expect(() => cache.get('c')).toThrow('closed')
  })

  it('refuses a size or idle limit that is not positive', () => {
    expect(() => createPoolCache({ maxSize: 0, keyOf: String, create: () => ({ close: async () => {} }) })).toThrow(RangeError)
    expect(() => createPoolCache({ maxSize: 1, idleMs: 0, keyOf: String, create: () => ({ close: async () => {} }) })).toThrow(RangeError)
  })
})
