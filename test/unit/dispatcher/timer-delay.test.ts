import { describe, expect, it } from 'vitest'
import { MAX_TIMER_DELAY_MS, timerDelay } from '../../../services/dispatcher/src/timer-delay.js'

describe('timerDelay', () => {
  it('clamps to what a Node timer holds, and to 0 from below', () => {
    expect(timerDelay(1500)).toBe(1500)
    expect(timerDelay(-20)).toBe(0)
    expect(timerDelay(2 ** 40)).toBe(MAX_TIMER_DELAY_MS)
    expect(timerDelay(Infinity)).toBe(MAX_TIMER_DELAY_MS)
    expect(timerDelay(Number.NaN)).toBe(0)
    expect(MAX_TIMER_DELAY_MS).toBe(2_147_483_647)
  })
})
