import { describe, expect, it } from 'vitest'
import { CircuitBreakers } from '../../../../services/dispatcher/src/engine/circuit-breaker.js'
import { RateLimiter } from '../../../../services/dispatcher/src/engine/rate-limiter.js'

describe('CircuitBreakers', () => {
  const breakers = (): CircuitBreakers => new CircuitBreakers({ failureThreshold: 3, initialOpenMs: 1000, maxOpenMs: 3000, probeWaitMs: 100 })

  it('stays closed below the threshold and opens at it', () => {
    const b = breakers()
    b.record('e', false, 0)
    b.record('e', false, 1)
    expect(b.state('e', 2)).toBe('closed')
    expect(b.beforeAttempt('e', 2)).toEqual({ allow: true, probe: false })
    b.record('e', false, 2)
    expect(b.state('e', 3)).toBe('open')
    expect(b.beforeAttempt('e', 3)).toEqual({ allow: false, until: 1002 })
  })

  it('a success resets the count of consecutive failures', () => {
    const b = breakers()
    b.record('e', false, 0)
    b.record('e', false, 1)
    b.record('e', true, 2)
    b.record('e', false, 3)
    b.record('e', false, 4)
    expect(b.state('e', 5)).toBe('closed')
    expect(b.failingSince('e')).toBe(3)
  })

  it('lets exactly one probe through when half-open; success closes', () => {
    const b = breakers()
    for (let i = 0; i < 3; i++) b.record('e', false, 0)
    expect(b.state('e', 1000)).toBe('half-open')
    expect(b.beforeAttempt('e', 1000)).toEqual({ allow: true, probe: true })
    expect(b.beforeAttempt('e', 1001)).toEqual({ allow: false, until: 1101 })
    b.record('e', true, 1010)
    expect(b.state('e', 1011)).toBe('closed')
    expect(b.failingSince('e')).toBeUndefined()
  })

  it('a failed probe reopens for twice as long, up to the cap', () => {
    const b = breakers()
    for (let i = 0; i < 3; i++) b.record('e', false, 0)
    b.beforeAttempt('e', 1000)
    b.record('e', false, 1000, true)
    expect(b.beforeAttempt('e', 1500)).toEqual({ allow: false, until: 3000 })
    b.beforeAttempt('e', 3000)
    b.record('e', false, 3000, true)
    expect(b.beforeAttempt('e', 3001)).toEqual({ allow: false, until: 6000 })
    b.beforeAttempt('e', 6000)
    b.record('e', false, 6000, true)
    expect(b.beforeAttempt('e', 6001)).toEqual({ allow: false, until: 9000 })
  })

  it('attempts that started before the circuit opened and fail later do not extend it', () => {
    const b = breakers()
    for (let i = 0; i < 3; i++) b.record('e', false, 0)
    for (let i = 0; i < 50; i++) b.record('e', false, 10)
    expect(b.beforeAttempt('e', 500)).toEqual({ allow: false, until: 1000 })
  })

  it('keeps endpoints apart and counts states', () => {
    const b = breakers()
    for (let i = 0; i < 3; i++) b.record('down', false, 0)
    expect(b.beforeAttempt('up', 1)).toEqual({ allow: true, probe: false })
    expect(b.countStates(['down', 'up', 'other'], 1)).toEqual({ closed: 2, open: 1, 'half-open': 0 })
  })
})

describe('RateLimiter', () => {
  it('allows a one-second burst, then one token per 1/rate seconds', () => {
    const limiter = new RateLimiter()
    for (let i = 0; i < 5; i++) expect(limiter.tryTake('e', 5, 0)).toEqual({ ok: true })
    expect(limiter.tryTake('e', 5, 0)).toEqual({ ok: false, retryAt: 200 })
    expect(limiter.tryTake('e', 5, 199).ok).toBe(false)
    expect(limiter.tryTake('e', 5, 200)).toEqual({ ok: true })
  })

  it('keeps endpoints apart', () => {
    const limiter = new RateLimiter()
    expect(limiter.tryTake('a', 1, 0).ok).toBe(true)
    expect(limiter.tryTake('a', 1, 0).ok).toBe(false)
    expect(limiter.tryTake('b', 1, 0).ok).toBe(true)
  })
})
