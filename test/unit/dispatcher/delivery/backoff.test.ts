import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RETRY_MAX_AGE_MS,
  DEFAULT_RETRY_SCHEDULE_MS,
  nextAttemptAt,
  parseRetryAfter,
  slotOffsetMs
} from '../../../../services/dispatcher/src/delivery/backoff.js'
import type { NextAttemptInput } from '../../../../services/dispatcher/src/delivery/backoff.js'

const S = 1000
const M = 60 * S
const H = 60 * M
const T0 = Date.UTC(2025, 0, 1)
// random() = 0.5 means no jitter, so nominal slot times can be asserted exactly.
const noJitter = (): number => 0.5

function next (input: Partial<NextAttemptInput> & { attempts: number, now: number }) {
  return nextAttemptAt({ firstFailureAt: T0, random: noJitter, ...input })
}

describe('slotOffsetMs', () => {
  it('sums the default gaps: 5 s, 30 s, 2 m, 10 m, 30 m, 1 h, then 3 h repeating', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => slotOffsetMs(k))).toEqual([
      0, 5 * S, 35 * S, 2 * M + 35 * S, 12 * M + 35 * S, 42 * M + 35 * S,
      H + 42 * M + 35 * S, 4 * H + 42 * M + 35 * S, 7 * H + 42 * M + 35 * S, 10 * H + 42 * M + 35 * S
    ])
  })

  it('repeats the last gap of a custom schedule', () => {
    expect(slotOffsetMs(5, [100, 200])).toBe(100 + 200 * 4)
  })

  it('exposes the default schedule frozen', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([5 * S, 30 * S, 2 * M, 10 * M, 30 * M, H, 3 * H])
    expect(Object.isFrozen(DEFAULT_RETRY_SCHEDULE_MS)).toBe(true)
    expect(DEFAULT_RETRY_MAX_AGE_MS).toBe(72 * H)
  })
})

describe('nextAttemptAt', () => {
  describe('schedule', () => {
    it('follows the slots when each attempt fails right after its slot', () => {
      const times: number[] = []
      let now = T0
      for (let attempts = 1; attempts <= 9; attempts++) {
        const result = next({ attempts, now })
        if (result.kind !== 'retry') throw new Error('exhausted too early')
        times.push(result.at - T0)
        now = result.at + 200
      }
      expect(times).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => slotOffsetMs(k)))
    })

    it('skips a slot that a slow attempt ran past instead of firing at once', () => {
      // Attempt 2 (slot 1, 5 s) took until 40 s, past slot 2 (35 s).
      expect(next({ attempts: 2, now: T0 + 40 * S })).toEqual({ kind: 'retry', at: T0 + slotOffsetMs(3) })
    })

    it('does not reuse a slot whose attempt jitter moved early', () => {
      // Attempt 3 ran at 29 s (slot 2, nominal 35 s, jittered early) and failed.
      expect(next({ attempts: 3, now: T0 + 29 * S })).toEqual({ kind: 'retry', at: T0 + slotOffsetMs(3) })
    })

    it('after a restart, resumes on the grid rather than bursting through missed slots', () => {
      // Parked item reloaded 10 h after its first failure with only one attempt recorded.
      const first = next({ attempts: 1, now: T0 + 10 * H })
      expect(first).toEqual({ kind: 'retry', at: T0 + slotOffsetMs(9) })
      const second = next({ attempts: 2, now: T0 + slotOffsetMs(9) + S })
      expect(second).toEqual({ kind: 'retry', at: T0 + slotOffsetMs(10) })
    })

    it('treats a clock earlier than the first failure as "just failed"', () => {
      expect(next({ attempts: 1, now: T0 - 10 * S })).toEqual({ kind: 'retry', at: T0 + 5 * S })
    })

    it('uses a custom schedule', () => {
      expect(next({ attempts: 1, now: T0, schedule: [1000] })).toEqual({ kind: 'retry', at: T0 + 1000 })
      expect(next({ attempts: 4, now: T0 + 3100, schedule: [1000] })).toEqual({ kind: 'retry', at: T0 + 4000 })
    })

    it('never schedules before now', () => {
      // 1 ms before slot 1, with the earliest jitter (-20% of 5 s = -1 s).
      const result = next({ attempts: 1, now: T0 + 5 * S - 1, random: () => 0 })
      expect(result).toEqual({ kind: 'retry', at: T0 + 5 * S - 1 })
    })
  })

  describe('jitter', () => {
    it('moves an attempt by at most ±20% of the gap before it', () => {
      const gap = 30 * S
      const nominal = T0 + slotOffsetMs(2)
      expect(next({ attempts: 2, now: T0 + 6 * S, random: () => 0 })).toEqual({ kind: 'retry', at: nominal - 0.2 * gap })
      const late = next({ attempts: 2, now: T0 + 6 * S, random: () => 0.999_999_9 })
      expect(late.kind === 'retry' && late.at).toBe(Math.round(nominal + (0.999_999_9 * 2 - 1) * 0.2 * gap))
      for (let i = 0; i < 200; i++) {
        const result = nextAttemptAt({ firstFailureAt: T0, attempts: 7, now: T0 + slotOffsetMs(6) + S })
        if (result.kind !== 'retry') throw new Error('exhausted')
        expect(Math.abs(result.at - (T0 + slotOffsetMs(7)))).toBeLessThanOrEqual(0.2 * 3 * H)
      }
    })

    it('is deterministic for an injected random source', () => {
      const seq = [0.1, 0.9, 0.37]
      const run = () => seq.map((r) => next({ attempts: 5, now: T0 + slotOffsetMs(4) + S, random: () => r }))
      expect(run()).toEqual(run())
      const [a, b] = run()
      expect(a).not.toEqual(b)
    })

    it('actually varies with the default random source', () => {
      const ats = new Set<number>()
      for (let i = 0; i < 20; i++) {
        const result = nextAttemptAt({ firstFailureAt: T0, attempts: 7, now: T0 + slotOffsetMs(6) + S })
        if (result.kind === 'retry') ats.add(result.at)
      }
      expect(ats.size).toBeGreaterThan(1)
    })

    it('can be turned off', () => {
      expect(next({ attempts: 1, now: T0, jitter: 0, random: () => 0 })).toEqual({ kind: 'retry', at: T0 + 5 * S })
    })

    it('gives whole milliseconds', () => {
      const result = next({ attempts: 2, now: T0 + 6 * S, random: () => 0.123_456_789 })
      expect(result.kind === 'retry' && Number.isInteger(result.at)).toBe(true)
    })
  })

  describe('Retry-After', () => {
    it('wins when later than the schedule', () => {
      expect(next({ attempts: 1, now: T0, retryAfterMs: 60 * S })).toEqual({ kind: 'retry', at: T0 + 60 * S })
    })

    it('loses when earlier than the schedule', () => {
      expect(next({ attempts: 1, now: T0, retryAfterMs: 2 * S })).toEqual({ kind: 'retry', at: T0 + 5 * S })
    })

    it('is clamped to the minimum', () => {
      expect(next({ attempts: 1, now: T0, retryAfterMs: 0, schedule: [10] })).toEqual({ kind: 'retry', at: T0 + S })
      expect(next({ attempts: 1, now: T0, retryAfterMs: -5, schedule: [10] })).toEqual({ kind: 'retry', at: T0 + S })
    })

    it('is clamped to the maximum', () => {
      expect(next({ attempts: 1, now: T0, retryAfterMs: 10 * H })).toEqual({ kind: 'retry', at: T0 + H })
      expect(next({ attempts: 1, now: T0, retryAfterMs: Infinity })).toEqual({ kind: 'retry', at: T0 + H })
    })

    it('uses custom clamps', () => {
      expect(next({ attempts: 1, now: T0, retryAfterMs: 0, schedule: [10], retryAfterMinMs: 250 })).toEqual({ kind: 'retry', at: T0 + 250 })
      expect(next({ attempts: 1, now: T0, retryAfterMs: H, retryAfterMaxMs: 20 * S })).toEqual({ kind: 'retry', at: T0 + 20 * S })
    })

    it('lets the maximum win over a larger minimum (a maximum of 0 disables it)', () => {
      expect(next({ attempts: 1, now: T0, retryAfterMs: 60 * S, retryAfterMaxMs: 0 })).toEqual({ kind: 'retry', at: T0 + 5 * S })
      expect(next({ attempts: 1, now: T0, retryAfterMs: 0, schedule: [10], retryAfterMinMs: 5 * S, retryAfterMaxMs: 2 * S })).toEqual({ kind: 'retry', at: T0 + 2 * S })
    })

    it('is ignored when NaN', () => {
      expect(next({ attempts: 1, now: T0, retryAfterMs: Number.NaN })).toEqual({ kind: 'retry', at: T0 + 5 * S })
    })

    it('is honoured up to the max-age boundary', () => {
      const now = T0 + 71.5 * H
      expect(next({ attempts: 30, now, retryAfterMs: H })).toEqual({ kind: 'retry', at: T0 + 72 * H })
    })
  })

  describe('max age', () => {
    const deadline = T0 + DEFAULT_RETRY_MAX_AGE_MS
    // With the defaults the last slot before 72 h is at 70 h 42 m 35 s.
    const lastSlot = T0 + 70 * H + 42 * M + 35 * S

    it('has a slot at 70h42m35s and none between it and 72 h', () => {
      expect(slotOffsetMs(29)).toBe(lastSlot - T0)
      expect(slotOffsetMs(30)).toBeGreaterThan(72 * H)
    })

    it('keeps scheduled attempts that land before the boundary', () => {
      expect(next({ attempts: 29, now: lastSlot - 3 * H + S })).toEqual({ kind: 'retry', at: lastSlot })
    })

    it('makes the final attempt exactly at the boundary when the next slot is past it', () => {
      expect(next({ attempts: 30, now: lastSlot + S })).toEqual({ kind: 'retry', at: deadline })
      expect(next({ attempts: 30, now: deadline - 1 })).toEqual({ kind: 'retry', at: deadline })
    })

    it('clamps a jittered attempt to the boundary', () => {
      const result = next({ attempts: 3, now: T0 + 6 * S, maxAgeMs: 34 * S, random: () => 0.99 })
      expect(result).toEqual({ kind: 'retry', at: T0 + 34 * S })
    })

    it('is exhausted once a failure is reported at or after the boundary', () => {
      expect(next({ attempts: 31, now: deadline })).toEqual({ kind: 'exhausted' })
      expect(next({ attempts: 31, now: deadline + 1 })).toEqual({ kind: 'exhausted' })
      expect(next({ attempts: 31, now: deadline, retryAfterMs: S })).toEqual({ kind: 'exhausted' })
    })

    it('uses a custom max age', () => {
      expect(next({ attempts: 1, now: T0 + 2 * S, maxAgeMs: 3 * S })).toEqual({ kind: 'retry', at: T0 + 3 * S })
      expect(next({ attempts: 2, now: T0 + 3 * S, maxAgeMs: 3 * S })).toEqual({ kind: 'exhausted' })
    })
  })

  describe('validation', () => {
    it.each<[string, Partial<NextAttemptInput>]>([
      ['attempts 0', { attempts: 0 }],
      ['fractional attempts', { attempts: 1.5 }],
      ['NaN now', { now: Number.NaN }],
      ['infinite firstFailureAt', { firstFailureAt: Infinity }],
      ['empty schedule', { schedule: [] }],
      ['zero gap', { schedule: [1000, 0] }],
      ['negative gap', { schedule: [-1] }],
      ['zero max age', { maxAgeMs: 0 }],
      ['NaN max age', { maxAgeMs: Number.NaN }],
      ['jitter 1', { jitter: 1 }],
      ['negative jitter', { jitter: -0.1 }],
      ['negative min', { retryAfterMinMs: -1 }],
      ['negative max', { retryAfterMaxMs: -1 }],
      ['NaN max', { retryAfterMaxMs: Number.NaN }]
    ])('rejects %s', (_label, override) => {
      expect(() => nextAttemptAt({ firstFailureAt: T0, attempts: 1, now: T0, random: noJitter, ...override })).toThrow(RangeError)
    })
  })
})

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 5, 15, 12, 0, 0)

  it.each<[string, string | undefined, number | undefined]>([
    ['delta-seconds', '120', 120_000],
    ['zero', '0', 0],
    ['surrounding whitespace', '  7 ', 7000],
    ['negative seconds', '-30', 0],
    ['huge seconds', '9'.repeat(30), Number.MAX_SAFE_INTEGER],
    ['fractional seconds', '1.5', undefined],
    ['a unit suffix', '10s', undefined],
    ['empty', '', undefined],
    ['whitespace only', '   ', undefined],
    ['words', 'tomorrow', undefined],
    ['absent', undefined, undefined],
    ['IMF-fixdate in the future', 'Sun, 15 Jun 2025 12:01:30 GMT', 90_000],
    ['IMF-fixdate in the past', 'Sun, 15 Jun 2025 11:00:00 GMT', 0],
    ['IMF-fixdate now', 'Sun, 15 Jun 2025 12:00:00 GMT', 0],
    ['RFC 850 date', 'Sunday, 15-Jun-25 12:00:10 GMT', 10_000],
    ['asctime date with a space-padded day', 'Sun Jun  1 12:00:00 2025', 0],
    ['asctime date in the future', 'Mon Jun 16 12:00:00 2025', 24 * H],
    ['a numeric offset instead of GMT', 'Sun, 15 Jun 2025 12:01:30 +0000', undefined],
    ['a lower-case month', 'Sun, 15 jun 2025 12:01:30 GMT', undefined],
    ['31 February', 'Mon, 31 Feb 2025 12:00:00 GMT', undefined],
    ['hour 24', 'Sun, 15 Jun 2025 24:00:00 GMT', undefined],
    ['minute 60', 'Sun, 15 Jun 2025 12:60:00 GMT', undefined],
    ['a date Date.parse would accept loosely', '1 2', undefined],
    ['ISO 8601', '2025-06-15T12:01:30Z', undefined]
  ])('%s', (_label, header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected)
  })

  it('accepts a leap second', () => {
    expect(parseRetryAfter('Sun, 15 Jun 2025 12:00:60 GMT', now - 60_000)).toBe(119_000)
  })

  it('reads a two-digit RFC 850 year as at most 50 years ahead', () => {
    // From 2025, "75" is 2075 (50 years ahead) but "76" is 1976.
    expect(parseRetryAfter('Friday, 01-Jan-75 00:00:00 GMT', now)).toBe(Date.UTC(2075, 0, 1) - now)
    expect(parseRetryAfter('Thursday, 01-Jan-76 00:00:00 GMT', now)).toBe(0)
  })
})
