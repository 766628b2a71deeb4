import { describe, expect, it } from 'vitest'
import { seededRandom as prng } from '../../../support/random.js'
import { KeyQueues, orderingKey } from '../../../../services/dispatcher/src/engine/key-queues.js'
import type { ReadyItem } from '../../../../services/dispatcher/src/engine/key-queues.js'


const items = <T>(taken: Array<ReadyItem<T>>): T[] => taken.map((t) => t.item)

describe('orderingKey', () => {
  it('joins subscription and account with NUL', () => {
    expect(orderingKey('sub-1', 'acc-9')).toBe('sub-1\u0000acc-9')
  })

  it('keeps pairs distinct that plain concatenation would merge', () => {
    expect(orderingKey('ab', 'c')).not.toBe(orderingKey('a', 'bc'))
  })
})

describe('KeyQueues', () => {
  it('starts idle and empty', () => {
    const q = new KeyQueues<string>()
    expect(q.isIdle()).toBe(true)
    expect(q.size).toBe(0)
    expect(q.keyCount).toBe(0)
    expect(q.takeReady(10)).toEqual([])
  })

  it('hands out only the head of each key, in key arrival order', () => {
    const q = new KeyQueues<string>()
    q.enqueue('a', 'a1')
    q.enqueue('b', 'b1')
    q.enqueue('a', 'a2')
    expect(q.size).toBe(3)
    expect(q.keyCount).toBe(2)
    expect(q.takeReady(10)).toEqual([{ key: 'a', item: 'a1' }, { key: 'b', item: 'b1' }])
    expect(q.isBusy('a')).toBe(true)
    // Both keys are busy: a2 waits for a1.
    expect(q.takeReady(10)).toEqual([])
  })

  it('peek shows the head of a key without taking it', () => {
    const q = new KeyQueues<string>()
    expect(q.peek('a')).toBeUndefined()
    q.enqueue('a', 'a1')
    q.enqueue('a', 'a2')
    expect(q.peek('a')).toBe('a1')
    expect(q.isBusy('a')).toBe(false)
    q.takeReady(1)
    expect(q.peek('a')).toBe('a1')
    q.complete('a')
    expect(q.peek('a')).toBe('a2')
    expect(q.lengthOf('a')).toBe(1)
  })

  it('respects the limit', () => {
    const q = new KeyQueues<number>()
    for (let k = 0; k < 5; k++) q.enqueue(`k${k}`, k)
    expect(items(q.takeReady(2))).toEqual([0, 1])
    expect(items(q.takeReady(0))).toEqual([])
    expect(items(q.takeReady(-1))).toEqual([])
    expect(items(q.takeReady(10))).toEqual([2, 3, 4])
  })

  it('complete pops the head and hands out the next item of the key', () => {
    const q = new KeyQueues<string>()
    q.enqueue('a', 'a1')
    q.enqueue('a', 'a2')
    q.takeReady(1)
    expect(q.complete('a')).toBe('a1')
    expect(q.isBusy('a')).toBe(false)
    expect(q.size).toBe(1)
    expect(items(q.takeReady(5))).toEqual(['a2'])
    q.complete('a')
    expect(q.isIdle()).toBe(true)
    expect(q.keyCount).toBe(0)
  })

  it('release frees the key and hands out the same head again', () => {
    const q = new KeyQueues<string>()
    q.enqueue('a', 'a1')
    q.enqueue('a', 'a2')
    q.takeReady(1)
    q.release('a')
    expect(q.size).toBe(2)
    expect(items(q.takeReady(5))).toEqual(['a1'])
  })

  it('throws on complete or release of a key with nothing out', () => {
    const q = new KeyQueues<string>()
    expect(() => q.complete('nope')).toThrow(/no item out/)
    q.enqueue('a', 'a1')
    expect(() => q.complete('a')).toThrow(/no item out/)
    expect(() => q.release('a')).toThrow(/no item out/)
    // The refused complete must not have popped anything.
    expect(items(q.takeReady(1))).toEqual(['a1'])
    q.complete('a')
    expect(() => q.complete('a')).toThrow(/no item out/)
  })

  it('is round-robin: a long queue does not starve other keys', () => {
    const q = new KeyQueues<string>()
    for (let i = 0; i < 100; i++) q.enqueue('hot', `hot${i}`)
    q.enqueue('x', 'x1')
    q.enqueue('y', 'y1')
    q.enqueue('z', 'z1')
    const served: string[] = []
    for (let round = 0; round < 8; round++) {
      const [taken] = q.takeReady(1)
      if (taken === undefined) throw new Error('nothing ready')
      served.push(taken.item)
      q.complete(taken.key)
    }
    expect(served).toEqual(['hot0', 'x1', 'y1', 'z1', 'hot1', 'hot2', 'hot3', 'hot4'])
  })

  it('sends a completed key to the back of the round', () => {
    const q = new KeyQueues<string>()
    q.enqueue('a', 'a1')
    q.enqueue('a', 'a2')
    q.enqueue('b', 'b1')
    q.enqueue('b', 'b2')
    q.enqueue('c', 'c1')
    const [first] = q.takeReady(1)
    q.complete((first as ReadyItem<string>).key)
    expect(items(q.takeReady(3))).toEqual(['b1', 'c1', 'a2'])
  })

  describe('canStart', () => {
    it('skips keys whose head cannot start and keeps them for later', () => {
      const q = new KeyQueues<{ endpoint: string, n: number }>()
      q.enqueue('a', { endpoint: 'full', n: 1 })
      q.enqueue('b', { endpoint: 'ok', n: 2 })
      q.enqueue('c', { endpoint: 'full', n: 3 })
      q.enqueue('d', { endpoint: 'ok', n: 4 })
      const taken = q.takeReady(10, (item) => item.endpoint !== 'full')
      expect(taken.map((t) => t.item.n)).toEqual([2, 4])
      expect(q.isBusy('a')).toBe(false)
      // Skipped keys keep their relative order.
      expect(q.takeReady(10).map((t) => t.item.n)).toEqual([1, 3])
    })

    it('asks about each ready key at most once per call', () => {
      const q = new KeyQueues<number>()
      for (let k = 0; k < 4; k++) q.enqueue(`k${k}`, k)
      const asked: number[] = []
      expect(q.takeReady(10, (item) => { asked.push(item); return false })).toEqual([])
      expect(asked).toEqual([0, 1, 2, 3])
    })

    it('hands out nothing and loses no key when canStart throws', () => {
      const q = new KeyQueues<number>()
      for (let k = 0; k < 3; k++) q.enqueue(`k${k}`, k)
      expect(() => q.takeReady(10, (item) => {
        if (item === 1) throw new Error('boom')
        return true
      })).toThrow('boom')
      expect(q.isBusy('k0')).toBe(false)
      expect(items(q.takeReady(10)).sort()).toEqual([0, 1, 2])
    })
  })

  describe('block and unblock', () => {
    it('never hands out a blocked key', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.enqueue('b', 'b1')
      q.block('a')
      expect(q.isBlocked('a')).toBe(true)
      expect(items(q.takeReady(10))).toEqual(['b1'])
      expect(q.takeReady(10)).toEqual([])
      q.unblock('a')
      expect(q.isBlocked('a')).toBe(false)
      expect(items(q.takeReady(10))).toEqual(['a1'])
    })

    it('keeps a busy head out when blocked, and does not hand out the next item after complete', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.enqueue('a', 'a2')
      q.takeReady(1)
      q.block('a')
      expect(q.isBusy('a')).toBe(true)
      q.complete('a')
      expect(q.takeReady(10)).toEqual([])
      q.unblock('a')
      expect(items(q.takeReady(10))).toEqual(['a2'])
    })

    it('remembers a block on an empty or unknown key', () => {
      const q = new KeyQueues<string>()
      q.block('a')
      q.enqueue('a', 'a1')
      expect(q.takeReady(10)).toEqual([])
      expect(q.isIdle()).toBe(false)
      q.unblock('a')
      expect(items(q.takeReady(10))).toEqual(['a1'])
    })

    it('keeps the block after the key drains empty', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.takeReady(1)
      q.block('a')
      q.complete('a')
      expect(q.isBlocked('a')).toBe(true)
      q.enqueue('a', 'a2')
      expect(q.takeReady(10)).toEqual([])
    })

    it('unblock of an unknown or unblocked key is harmless', () => {
      const q = new KeyQueues<string>()
      q.unblock('nope')
      q.enqueue('a', 'a1')
      q.unblock('a')
      expect(items(q.takeReady(10))).toEqual(['a1'])
      expect(q.takeReady(10)).toEqual([])
    })

    it('lists a key only once when blocked and unblocked repeatedly', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      for (let i = 0; i < 5; i++) {
        q.block('a')
        q.unblock('a')
      }
      expect(items(q.takeReady(10))).toEqual(['a1'])
      q.release('a')
      expect(items(q.takeReady(10))).toEqual(['a1'])
    })

    it('an unblocked key keeps its place in the round', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.enqueue('b', 'b1')
      q.block('a')
      q.unblock('a')
      expect(items(q.takeReady(10))).toEqual(['a1', 'b1'])
    })
  })

  describe('drainKey', () => {
    it('removes and returns every item of an idle key in order', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.enqueue('a', 'a2')
      q.enqueue('b', 'b1')
      expect(q.drainKey('a')).toEqual(['a1', 'a2'])
      expect(q.size).toBe(1)
      expect(q.keyCount).toBe(1)
      expect(q.lengthOf('a')).toBe(0)
      // The stale ready entry for 'a' must not hand anything out.
      expect(items(q.takeReady(10))).toEqual(['b1'])
    })

    it('leaves the head of a busy key in place', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.enqueue('a', 'a2')
      q.enqueue('a', 'a3')
      q.takeReady(1)
      q.block('a')
      expect(q.drainKey('a')).toEqual(['a2', 'a3'])
      expect(q.size).toBe(1)
      expect(q.keyCount).toBe(1)
      expect(q.complete('a')).toBe('a1')
      expect(q.isIdle()).toBe(true)
      expect(q.keyCount).toBe(0)
    })

    it('returns nothing for an unknown key', () => {
      expect(new KeyQueues<string>().drainKey('nope')).toEqual([])
    })

    it('keeps the block of a drained key', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.block('a')
      expect(q.drainKey('a')).toEqual(['a1'])
      expect(q.isBlocked('a')).toBe(true)
      q.enqueue('a', 'a2')
      expect(q.takeReady(10)).toEqual([])
    })

    it('a key re-created after a drain is handed out once', () => {
      const q = new KeyQueues<string>()
      q.enqueue('a', 'a1')
      q.drainKey('a')
      q.enqueue('a', 'a2')
      expect(items(q.takeReady(10))).toEqual(['a2'])
      expect(q.takeReady(10)).toEqual([])
    })

    it('keeps a long queue consistent through compaction', () => {
      const q = new KeyQueues<number>()
      for (let i = 0; i < 500; i++) q.enqueue('a', i)
      for (let i = 0; i < 300; i++) {
        expect(items(q.takeReady(1))).toEqual([i])
        q.complete('a')
      }
      q.takeReady(1)
      expect(q.drainKey('a')).toEqual(Array.from({ length: 199 }, (_, i) => 301 + i))
      expect(q.complete('a')).toBe(300)
      expect(q.isIdle()).toBe(true)
    })
  })

  it('does not scan busy keys: takeReady visits only listed keys', () => {
    const q = new KeyQueues<number>()
    for (let k = 0; k < 10_000; k++) q.enqueue(`k${k}`, k)
    expect(q.takeReady(10_000)).toHaveLength(10_000)
    q.enqueue('late', -1)
    const asked: number[] = []
    const taken = q.takeReady(10, (item) => { asked.push(item); return true })
    expect(items(taken)).toEqual([-1])
    expect(asked).toEqual([-1])
  })

  it('keeps per-key order and one item out per key under random operations', () => {
    let handedOut = 0
    for (let seed = 1; seed <= 30; seed++) {
      const random = prng(seed)
      const fail = (step: number, what: string): never => expect.fail(`seed ${seed} step ${step}: ${what}`)
      const q = new KeyQueues<{ key: string, seq: number }>()
      const keys = Array.from({ length: 1 + Math.floor(random() * 12) }, (_, i) => `key${i}`)
      // Reference model: each key's queued sequence numbers, head first.
      const model = new Map<string, number[]>(keys.map((k) => [k, []]))
      const busy = new Set<string>()
      const blocked = new Set<string>()
      let nextSeq = 0
      let size = 0
      const queueOf = (k: string): number[] => model.get(k) as number[]
      for (let step = 0; step < 3000; step++) {
        const r = random()
        const key = keys[Math.floor(random() * keys.length)] as string
        if (r < 0.35) {
          const seq = nextSeq++
          q.enqueue(key, { key, seq })
          queueOf(key).push(seq)
          size++
        } else if (r < 0.6) {
          const taken = q.takeReady(1 + Math.floor(random() * 4), () => random() < 0.8)
          const seen = new Set<string>()
          for (const t of taken) {
            if (t.item.key !== t.key) fail(step, 'item under the wrong key')
            if (seen.has(t.key)) fail(step, `key ${t.key} handed out twice in one call`)
            if (busy.has(t.key)) fail(step, `key ${t.key} handed out while busy`)
            if (blocked.has(t.key)) fail(step, `blocked key ${t.key} handed out`)
            if (t.item.seq !== queueOf(t.key)[0]) fail(step, `key ${t.key} handed out ${t.item.seq}, head is ${queueOf(t.key)[0]}`)
            seen.add(t.key)
            busy.add(t.key)
            handedOut++
          }
        } else if (r < 0.8) {
          const k = [...busy][Math.floor(random() * busy.size)]
          if (k !== undefined) {
            if (random() < 0.8) {
              if (q.complete(k).seq !== queueOf(k).shift()) fail(step, 'complete popped the wrong item')
              size--
            } else {
              q.release(k)
            }
            busy.delete(k)
          }
        } else if (r < 0.88) {
          q.block(key)
          blocked.add(key)
        } else if (r < 0.97) {
          q.unblock(key)
          blocked.delete(key)
        } else {
          const queue = queueOf(key)
          const kept = busy.has(key) ? queue.splice(0, 1) : []
          const expected = queue.splice(0)
          queue.push(...kept)
          const drained = q.drainKey(key).map((d) => d.seq)
          if (drained.join() !== expected.join()) fail(step, `drained ${drained.join()}, expected ${expected.join()}`)
          size -= drained.length
        }
        if (q.size !== size) fail(step, `size ${q.size}, expected ${size}`)
        if (q.isIdle() !== (size === 0)) fail(step, 'isIdle disagrees with size')
        if (q.keyCount !== keys.filter((k) => queueOf(k).length > 0).length) fail(step, 'keyCount is off')
      }
      // Unblock everything and run to completion: every item comes out, in order.
      for (const k of keys) q.unblock(k)
      for (const k of busy) q.release(k)
      for (let round = 0; !q.isIdle(); round++) {
        if (round > 10_000) fail(-1, 'queues never drained')
        for (const t of q.takeReady(5)) {
          if (q.complete(t.key).seq !== queueOf(t.key).shift()) fail(-1, 'out of order while draining')
        }
      }
      expect(q.keyCount).toBe(0)
      for (const k of keys) expect(queueOf(k)).toEqual([])
    }
    // Guard against a run that trivially handed nothing out.
    expect(handedOut).toBeGreaterThan(1000)
  })
})
