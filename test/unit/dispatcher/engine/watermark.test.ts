import { describe, expect, it } from 'vitest'
import { seededRandom as prng } from '../../../support/random.js'
import { PartitionWatermark } from '../../../../services/dispatcher/src/engine/watermark.js'

// Small seeded PRNG (mulberry32) so a failing random run can be replayed.

describe('PartitionWatermark', () => {
  describe('before anything is tracked', () => {
    it('has nothing to commit without a start', () => {
      const w = new PartitionWatermark()
      expect(w.commitOffset()).toBeUndefined()
      expect(w.inFlightCount).toBe(0)
      expect(w.windowSize).toBe(0)
      expect(w.highestTracked).toBeUndefined()
    })

    it('commits the start given to the constructor', () => {
      expect(new PartitionWatermark(42n).commitOffset()).toBe(42n)
    })

    it('commits the start given to setStart', () => {
      const w = new PartitionWatermark()
      w.setStart(7n)
      expect(w.commitOffset()).toBe(7n)
    })
  })

  describe('tracking', () => {
    it('holds the commit at the first tracked offset until it settles', () => {
      const w = new PartitionWatermark(10n)
      w.track(10n)
      w.track(11n)
      expect(w.commitOffset()).toBe(10n)
      expect(w.inFlightCount).toBe(2)
      expect(w.windowSize).toBe(2)
      expect(w.highestTracked).toBe(11n)
    })

    it('commits the first tracked offset when the start is below it (gap after the start)', () => {
      const w = new PartitionWatermark(100n)
      w.track(105n)
      expect(w.commitOffset()).toBe(105n)
    })

    it('rejects an offset equal to the previous one', () => {
      const w = new PartitionWatermark()
      w.track(5n)
      expect(() => w.track(5n)).toThrow(RangeError)
    })

    it('rejects a decreasing offset', () => {
      const w = new PartitionWatermark()
      w.track(5n)
      expect(() => w.track(4n)).toThrow(/strictly increase/)
      expect(w.commitOffset()).toBe(5n)
    })

    it('rejects a decreasing offset even after everything settled', () => {
      const w = new PartitionWatermark()
      w.track(5n)
      w.settle(5n)
      expect(() => w.track(3n)).toThrow(RangeError)
      expect(w.commitOffset()).toBe(6n)
    })

    it('rejects a first offset below the start', () => {
      const w = new PartitionWatermark(10n)
      expect(() => w.track(9n)).toThrow(/below the start/)
      expect(w.commitOffset()).toBe(10n)
      expect(w.inFlightCount).toBe(0)
    })

    it('handles offsets beyond the safe-integer range', () => {
      const big = 2n ** 62n
      const w = new PartitionWatermark(big)
      w.track(big)
      w.track(big + 1n)
      w.settle(big)
      expect(w.commitOffset()).toBe(big + 1n)
      w.settle(big + 1n)
      expect(w.commitOffset()).toBe(big + 2n)
    })
  })

  describe('settling', () => {
    it('commits one past the highest offset when everything settled', () => {
      const w = new PartitionWatermark(0n)
      w.track(0n)
      w.track(1n)
      w.settle(0n)
      w.settle(1n)
      expect(w.commitOffset()).toBe(2n)
      expect(w.inFlightCount).toBe(0)
      expect(w.windowSize).toBe(0)
    })

    it('does not pass an unsettled offset when later ones settle first', () => {
      const w = new PartitionWatermark(0n)
      for (const o of [0n, 1n, 2n, 3n]) w.track(o)
      w.settle(3n)
      w.settle(2n)
      w.settle(1n)
      expect(w.commitOffset()).toBe(0n)
      expect(w.inFlightCount).toBe(1)
      expect(w.windowSize).toBe(4)
      w.settle(0n)
      expect(w.commitOffset()).toBe(4n)
      expect(w.windowSize).toBe(0)
    })

    it('jumps over gaps to the next tracked offset', () => {
      const w = new PartitionWatermark(0n)
      for (const o of [3n, 8n, 20n]) w.track(o)
      w.settle(3n)
      expect(w.commitOffset()).toBe(8n)
      w.settle(20n)
      expect(w.commitOffset()).toBe(8n)
      expect(w.windowSize).toBe(2)
      w.settle(8n)
      expect(w.commitOffset()).toBe(21n)
    })

    it('advances only as far as the next unsettled offset', () => {
      const w = new PartitionWatermark(0n)
      for (let o = 0n; o < 6n; o++) w.track(o)
      w.settle(1n)
      w.settle(2n)
      w.settle(4n)
      w.settle(0n)
      expect(w.commitOffset()).toBe(3n)
      expect(w.windowSize).toBe(3)
      expect(w.inFlightCount).toBe(2)
    })

    it('returns true for an in-flight offset', () => {
      const w = new PartitionWatermark()
      w.track(1n)
      expect(w.isInFlight(1n)).toBe(true)
      expect(w.settle(1n)).toBe(true)
      expect(w.isInFlight(1n)).toBe(false)
    })

    it('ignores a second settle of the same offset', () => {
      const w = new PartitionWatermark(0n)
      w.track(0n)
      w.track(1n)
      w.settle(1n)
      expect(w.settle(1n)).toBe(false)
      expect(w.commitOffset()).toBe(0n)
      expect(w.inFlightCount).toBe(1)
    })

    it('ignores an offset that was never tracked', () => {
      const w = new PartitionWatermark(0n)
      w.track(0n)
      w.track(5n)
      expect(w.settle(3n)).toBe(false)
      expect(w.settle(9n)).toBe(false)
      expect(w.commitOffset()).toBe(0n)
      expect(w.inFlightCount).toBe(2)
    })

    it('does not let a settle of a not-yet-tracked offset pre-settle it', () => {
      const w = new PartitionWatermark(0n)
      expect(w.settle(0n)).toBe(false)
      w.track(0n)
      expect(w.commitOffset()).toBe(0n)
      expect(w.inFlightCount).toBe(1)
    })

    it('keeps working after the window is compacted', () => {
      const w = new PartitionWatermark(0n)
      const n = 5000n
      for (let o = 0n; o < n; o++) w.track(o * 2n)
      // Settle all but the last, in order, so the array compacts repeatedly.
      for (let o = 0n; o < n - 1n; o++) {
        w.settle(o * 2n)
        expect(w.commitOffset()).toBe((o + 1n) * 2n)
      }
      expect(w.windowSize).toBe(1)
      w.track(n * 2n)
      w.settle(n * 2n)
      expect(w.commitOffset()).toBe((n - 1n) * 2n)
      w.settle((n - 1n) * 2n)
      expect(w.commitOffset()).toBe(n * 2n + 1n)
    })
  })

  describe('setStart', () => {
    it('resets an idle window to the new position', () => {
      const w = new PartitionWatermark(0n)
      w.track(0n)
      w.settle(0n)
      w.setStart(50n)
      expect(w.commitOffset()).toBe(50n)
      expect(w.highestTracked).toBeUndefined()
      w.track(50n)
      expect(w.commitOffset()).toBe(50n)
    })

    it('allows a start below the previously tracked offsets after a reset', () => {
      const w = new PartitionWatermark(100n)
      w.track(100n)
      w.settle(100n)
      w.setStart(20n)
      w.track(20n)
      expect(w.commitOffset()).toBe(20n)
    })

    it('refuses to reset while records are in flight', () => {
      const w = new PartitionWatermark(0n)
      w.track(0n)
      expect(() => w.setStart(9n)).toThrow(/in flight/)
      expect(w.commitOffset()).toBe(0n)
    })
  })

  it('agrees with a reference model on random workloads', () => {
    let checks = 0
    for (let seed = 1; seed <= 30; seed++) {
      const random = prng(seed)
      const start = BigInt(Math.floor(random() * 1000))
      const w = new PartitionWatermark(start)
      // Reference: tracked offsets in order plus a set of unsettled ones;
      // the commit position is found by a linear scan.
      const tracked: bigint[] = []
      const unsettled = new Set<bigint>()
      let next = start
      const reference = (): bigint | undefined => {
        for (const o of tracked) if (unsettled.has(o)) return o
        const last = tracked.at(-1)
        return last === undefined ? start : last + 1n
      }
      for (let step = 0; step < 1000; step++) {
        const r = random()
        if (r < 0.45 || unsettled.size === 0) {
          next += BigInt(1 + (random() < 0.2 ? Math.floor(random() * 10) : 0))
          w.track(next)
          tracked.push(next)
          unsettled.add(next)
        } else if (r < 0.95) {
          const pending = [...unsettled]
          const o = pending[Math.floor(random() * pending.length)] as bigint
          if (!w.settle(o)) expect.fail(`seed ${seed} step ${step}: settle of in-flight ${o} returned false`)
          unsettled.delete(o)
        } else {
          // A duplicate or stray settle must change nothing.
          const o = tracked.length > 0 && random() < 0.5
            ? tracked[Math.floor(random() * tracked.length)] as bigint
            : next + 1000n
          const wasPending = unsettled.delete(o)
          if (w.settle(o) !== wasPending) expect.fail(`seed ${seed} step ${step}: stray settle of ${o}`)
        }
        const expected = reference()
        const lowest = expected ?? start
        const actual = { commit: w.commitOffset(), inFlight: w.inFlightCount, window: w.windowSize }
        const wanted = { commit: expected, inFlight: unsettled.size, window: tracked.filter((o) => o >= lowest).length }
        // expect() per step is slow; compare cheaply and report only a mismatch.
        if (actual.commit !== wanted.commit || actual.inFlight !== wanted.inFlight || actual.window !== wanted.window) {
          expect(actual, `seed ${seed} step ${step}`).toEqual(wanted)
        }
        checks++
      }
    }
    expect(checks).toBe(30 * 1000)
  })

  it('handles a large window with random settle order in near-linear time', { timeout: 10_000 }, () => {
    // An O(n) scan per settle would take minutes here.
    const n = 200_000
    const random = prng(7)
    const w = new PartitionWatermark(0n)
    const order: number[] = []
    for (let i = 0; i < n; i++) {
      w.track(BigInt(i))
      order.push(i)
    }
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      const tmp = order[i] as number
      order[i] = order[j] as number
      order[j] = tmp
    }
    let minUnsettled = 0
    const settled = new Uint8Array(n)
    for (const i of order) {
      w.settle(BigInt(i))
      settled[i] = 1
      while (minUnsettled < n && settled[minUnsettled] === 1) minUnsettled++
      if (i % 997 === 0) expect(w.commitOffset()).toBe(BigInt(minUnsettled))
    }
    expect(w.commitOffset()).toBe(BigInt(n))
    expect(w.inFlightCount).toBe(0)
  })
})
