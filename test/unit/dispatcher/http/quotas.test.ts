import { describe, expect, it } from 'vitest'
import { DEFAULT_ADMIN_QUOTAS, RateLimiter, retryAfterSeconds } from '../../../../services/dispatcher/src/http/admin/quotas.js'

describe('RateLimiter', () => {
  const limiter = (perSecond: number, burst: number): { take: (key: string) => number, advance: (ms: number) => void } => {
    let clock = 1_000_000
    const l = new RateLimiter({ perMs: perSecond / 1000, burst, now: () => clock })
    return { take: (key) => l.take(key), advance: (ms) => { clock += ms } }
  }

  it('allows the burst at once, then one per 1/rate, and says how long to wait', () => {
    const l = limiter(4, 3)
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0])
    expect(l.take('a')).toBe(250)
    l.advance(100)
    expect(l.take('a')).toBe(150)
    l.advance(150)
    expect(l.take('a')).toBe(0)
    expect(l.take('a')).toBe(250)
  })

  it('keeps keys apart and refills no further than the burst', () => {
    const l = limiter(1, 2)
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 1000])
    expect(l.take('b')).toBe(0)
    l.advance(3_600_000)
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 1000])
  })

  it('refills nothing when the clock goes back', () => {
    const l = limiter(1, 1)
    expect(l.take('a')).toBe(0)
    l.advance(-10_000)
    expect(l.take('a')).toBe(1000)
  })
})

describe('retryAfterSeconds', () => {
  it.each([[1, 1], [999, 1], [1000, 1], [1001, 2], [20_000, 20]])('%i ms → %i s', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds)
  })
})

describe('DEFAULT_ADMIN_QUOTAS', () => {
  it('are the documented defaults', () => {
    expect(DEFAULT_ADMIN_QUOTAS).toEqual({ maxEndpointsPerTenant: 20, testEventsPerMinute: 10, requestsPerSecond: 20, requestBurst: 100 })
    expect(Object.isFrozen(DEFAULT_ADMIN_QUOTAS)).toBe(true)
  })
})
