import { describe, expect, it } from 'vitest'
import { GROWTH_BEFORE_AGAIN, MIN_INTERVAL_MS, QUIET_PER_SECOND, RESTATE_INTERVAL_MS, shouldCollect } from '../../../../services/dispatcher/src/memory/pressure.js'

const MiB = 2 ** 20
const limit = 512 * MiB

describe('shouldCollect (MEMORY_SOFT_LIMIT_MIB)', () => {
  it('collects once RSS reaches the soft limit, not below it', () => {
    expect(shouldCollect(limit - 1, 0, limit, undefined)).toBe(false)
    expect(shouldCollect(limit, 0, limit, undefined)).toBe(true)
  })

  it('waits while the dispatcher is busy: a pause would show in its latency', () => {
    expect(shouldCollect(2 * limit, 0, limit, undefined, QUIET_PER_SECOND + 1)).toBe(false)
    expect(shouldCollect(2 * limit, 0, limit, undefined, QUIET_PER_SECOND)).toBe(true)
  })

  it('never collects with the limit at 0 (off)', () => {
    expect(shouldCollect(64 * 1024 * MiB, 0, 0, undefined)).toBe(false)
  })

  it('waits MIN_INTERVAL_MS after a collection, however high RSS is', () => {
    const last = { at: 1_000, rssAfter: 100 * MiB }
    expect(shouldCollect(4 * limit, 1_000 + MIN_INTERVAL_MS - 1, limit, last)).toBe(false)
    expect(shouldCollect(4 * limit, 1_000 + MIN_INTERVAL_MS, limit, last)).toBe(true)
  })

  it('after a collection that brought RSS under the limit, collects again when RSS is back over it', () => {
    const last = { at: 0, rssAfter: limit - MiB }
    expect(shouldCollect(limit, MIN_INTERVAL_MS, limit, last)).toBe(true)
  })

  it('after a collection that left RSS above the limit (mostly live), waits until RSS grows by a tenth or RESTATE_INTERVAL_MS passes', () => {
    const last = { at: 0, rssAfter: 600 * MiB }
    expect(shouldCollect(600 * MiB * GROWTH_BEFORE_AGAIN - 1, RESTATE_INTERVAL_MS - 1, limit, last)).toBe(false)
    expect(shouldCollect(600 * MiB * GROWTH_BEFORE_AGAIN, MIN_INTERVAL_MS, limit, last)).toBe(true)
    expect(shouldCollect(600 * MiB, RESTATE_INTERVAL_MS, limit, last)).toBe(true)
  })
})
