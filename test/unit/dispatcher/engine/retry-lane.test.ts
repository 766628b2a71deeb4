import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DeliveryTask, RawRecord } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { RetryLane, type RetryLaneEffects } from '../../../../services/dispatcher/src/engine/retry-lane.js'

const raw: RawRecord = { key: null, value: null, headers: {}, timestamp: 0 }
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

function task (account: string, sourceOffset: number, attempts = 0, subscriptionId = 'sub-1'): DeliveryTask {
  return { webhookId: `evt-${sourceOffset}`, subscriptionId, tenantId: 't1', accountId: account, eventType: 'transaction.posted', occurredAt: 0, body: '{}', source: { topic: 'src', partition: 0, offset: BigInt(sourceOffset) }, record: raw, attempts, ...(attempts > 0 ? { firstFailureAt: 0 } : {}) }
}

/**
 * A retry lane with fake effects. Moves are appended to an in-memory tail
 * starting at `tailFrom`; a failed retry waits until `dueAt` (10 minutes
 * unless told), so heads that failed pin the commit position.
 */
function harness ({ tailFrom = 1_000n, open = true } = {}) {
  const now = 0
  const moved: Array<{ task: DeliveryTask, offset: bigint }> = []
  let next = tailFrom
  const lane = new RetryLane('src.retry', 0, {
    nextAttempt: () => ({ kind: 'retry', at: now + 600_000 }),
    deadLetter: async () => {},
    disableEndpoint: () => {},
    onKeySettled: () => {},
    requestPump: () => {},
    now: () => now,
    move: async (t) => {
      await Promise.resolve()
      const offset = next++
      moved.push({ task: { ...t }, offset })
      return offset
    }
  }, pino({ level: 'silent' }))
  if (open) lane.openGate()
  return { lane, moved }
}

const sourceOffsets = (items: Array<{ item: DeliveryTask }>): number[] => items.map((r) => Number(r.item.source.offset))

describe('RetryLane', () => {
  it('attempts nothing before the handover gate opens', () => {
    const { lane } = harness({ open: false })
    lane.accept(0n, { kind: 'retry', task: task('acc-1', 5) })
    expect(lane.takeReady(10, () => true)).toEqual([])
    lane.openGate()
    expect(sourceOffsets(lane.takeReady(10, () => true))).toEqual([5])
  })

  it('hands out each item held behind its key\'s head whole, in order, when it becomes the head (held packed meanwhile)', () => {
    const { lane } = harness()
    const parked = [0, 1, 2].map((i) => ({
      ...task('acc-1', 20 + i),
      body: `{"n":${i},"memo":"café"}`,
      record: { key: Buffer.from('acc-1'), value: Buffer.from([i, 255]), headers: { traceparent: Buffer.from(`t-${i}`) }, timestamp: 1_000 + i },
      ...(i === 2 ? { redrivenAt: 5, lastError: 'HTTP 503', lastStatus: 503 } : {})
    }))
    parked.forEach((t, i) => lane.accept(BigInt(30 + i), { kind: 'retry', task: t }))
    expect(lane.heldItems).toBe(3)
    // A copy of the third read back (a crash between a park and its commit) is the same delivery.
    expect(lane.accept(40n, { kind: 'retry', task: { ...parked[2] as DeliveryTask } })).toBe('sub-1\u0000acc-1')
    expect(lane.heldItems).toBe(3)
    const handedOut: DeliveryTask[] = []
    for (let i = 0; i < 3; i++) {
      const [ready] = lane.takeReady(10, () => true)
      expect(ready).toBeDefined()
      const { key, item } = ready as { key: string, item: DeliveryTask }
      handedOut.push(item)
      lane.finish(key, item, { kind: 'delivered' })
    }
    expect(handedOut).toEqual(parked.map((t, i) => ({ ...t, retryOffset: i === 2 ? 40n : BigInt(30 + i) })))
    expect(lane.heldItems).toBe(0)
    expect(lane.hasSettled(40n)).toBe(true)
  })

  it('queues a key\'s items by source offset, whatever their order in the log (a moved head read back after its followers)', () => {
    const { lane } = harness()
    lane.accept(7n, { kind: 'retry', task: task('acc-1', 12) })
    lane.accept(8n, { kind: 'retry', task: task('acc-1', 13) })
    // The key's head, moved to the end of the partition by a previous owner.
    lane.accept(9n, { kind: 'retry', task: task('acc-1', 10, 2) })
    // Its backoff runs: nothing of the key may overtake it.
    expect(lane.takeReady(10, () => true)).toEqual([])
    lane.accept(10n, { kind: 'retry', task: task('acc-2', 11) })
    expect(sourceOffsets(lane.takeReady(10, () => true))).toEqual([11])
  })

  it('moves idle waiting items that pin the commit position behind what was settled, and the commit passes them', async () => {
    const { lane, moved } = harness()
    // acc-1's head failed and waits 10 minutes; an item of its key waits behind it.
    lane.accept(0n, { kind: 'retry', task: task('acc-1', 0, 1) })
    lane.accept(1n, { kind: 'retry', task: task('acc-1', 1) })
    // 20 other items are delivered from the retry lane above them.
    for (let i = 2; i < 22; i++) lane.accept(BigInt(i), { kind: 'retry', task: task(`acc-${i}`, i) })
    for (const { key, item } of lane.takeReady(100, () => true)) lane.finish(key, item, { kind: 'delivered' })
    expect(lane.window.commit()?.offset).toBe(0n)
    expect(lane.compact(100)).toBe(0)
    expect(lane.compact(10)).toBe(2)
    await flush()
    expect(moved.map((m) => Number(m.task.source.offset))).toEqual([0, 1])
    expect(moved[0]?.task.attempts).toBe(1)
    // Both copies are durable: the commit passes everything read.
    expect(lane.window.commit()?.offset).toBe(22n)
    // Read back, the copies are recognised and not queued twice; the commit stops at the first copy.
    expect(lane.accept(1_000n, { kind: 'retry', task: task('acc-1', 0, 1) })).toBeDefined()
    expect(lane.accept(1_001n, { kind: 'retry', task: task('acc-1', 1) })).toBeDefined()
    expect(lane.heldItems).toBe(2)
    expect(lane.window.commit()?.offset).toBe(1_000n)
    expect(lane.compact(0)).toBe(0)
  })

  it('settles a copy read back after its item was delivered, without delivering it again', async () => {
    let now = 0
    const moved: bigint[] = []
    const lane = new RetryLane('src.retry', 0, {
      nextAttempt: () => ({ kind: 'retry', at: now + 1 }),
      deadLetter: async () => {},
      disableEndpoint: () => {},
      onKeySettled: () => {},
      requestPump: () => {},
      now: () => now,
      move: async () => { moved.push(500n); return 500n }
    }, pino({ level: 'silent' }))
    lane.openGate()
    lane.accept(0n, { kind: 'retry', task: task('acc-1', 0, 1) })
    lane.accept(1n, { kind: 'retry', task: task('acc-9', 1) })
    const [other] = lane.takeReady(10, () => true)
    lane.finish(other!.key, other!.item, { kind: 'delivered' })
    // No horizon: the head, due in 1 ms, is moved all the same (the case of a head due far ahead, at test speed).
    expect(lane.compact(0, 0)).toBe(1)
    await flush()
    now = 2_000
    await new Promise((resolve) => setTimeout(resolve, 5))
    const [head] = lane.takeReady(10, () => true)
    expect(Number(head!.item.source.offset)).toBe(0)
    lane.finish(head!.key, head!.item, { kind: 'delivered' })
    expect(lane.accept(500n, { kind: 'retry', task: task('acc-1', 0, 1) })).toBeUndefined()
    expect(lane.heldItems).toBe(0)
    expect(lane.takeReady(10, () => true)).toEqual([])
    expect(lane.window.commit()?.offset).toBe(501n)
  })

  it('moves only keys due beyond the horizon: a ready key, or one due soon, settles in place', () => {
    let due = 10_000
    const moved: number[] = []
    const lane = new RetryLane('src.retry', 0, {
      nextAttempt: () => ({ kind: 'retry', at: due }),
      deadLetter: async () => {},
      disableEndpoint: () => {},
      onKeySettled: () => {},
      requestPump: () => {},
      now: () => 0,
      move: async (t) => { moved.push(Number(t.source.offset)); return 1_000n }
    }, pino({ level: 'silent' }))
    lane.openGate()
    // acc-soon's head is due in 10 s, acc-far's in 10 minutes; acc-ready never failed.
    lane.accept(0n, { kind: 'retry', task: task('acc-soon', 0, 1) })
    due = 600_000
    lane.accept(1n, { kind: 'retry', task: task('acc-far', 1, 1) })
    lane.accept(2n, { kind: 'retry', task: task('acc-far', 2) })
    lane.accept(3n, { kind: 'retry', task: task('acc-x', 3) })
    const [x] = lane.takeReady(10, () => true)
    expect(Number(x!.item.source.offset)).toBe(3)
    lane.finish(x!.key, x!.item, { kind: 'delivered' })
    expect(lane.compact(0)).toBe(2)
    expect(moved.sort()).toEqual([1, 2])
  })

  it('keeps one item for a delivery parked twice (a crash between a park and its commit)', () => {
    const { lane } = harness()
    lane.accept(3n, { kind: 'retry', task: task('acc-1', 40) })
    lane.accept(4n, { kind: 'retry', task: task('acc-1', 40) })
    expect(lane.heldItems).toBe(1)
    const [only, ...rest] = lane.takeReady(10, () => true)
    expect(rest).toEqual([])
    lane.finish(only!.key, only!.item, { kind: 'delivered' })
    expect(lane.window.commit()?.offset).toBe(5n)
  })

  it('moves nothing for markers settled above what waits (a handover\'s claim and release): reading those again changes nothing', () => {
    const { lane } = harness()
    for (let i = 0; i < 30; i++) lane.accept(BigInt(i), { kind: 'retry', task: task(`acc-${i}`, i, 1) })
    lane.passOver(30n)
    lane.passOver(31n)
    expect(lane.compact(10)).toBe(0)
    expect(lane.compact(0)).toBe(0)
  })
})

describe('RetryLane: an operator action on an endpoint', () => {
  it('releases at once the keys its open circuit holds, and leaves heads that failed an attempt in their backoff', () => {
    const { lane } = harness()
    lane.accept(0n, { kind: 'retry', task: task('acc-1', 0) })
    lane.accept(1n, { kind: 'retry', task: task('acc-2', 1) })
    lane.accept(2n, { kind: 'retry', task: task('acc-3', 2, 0, 'sub-2') })
    const taken = lane.takeReady(10, () => true)
    expect(sourceOffsets(taken)).toEqual([0, 1, 2])
    const [first, second, other] = taken as [typeof taken[number], typeof taken[number], typeof taken[number]]
    // acc-1: held by the open circuit until its next probe, 10 minutes away.
    lane.finish(first.key, first.item, { kind: 'held', reason: 'circuit-open', until: 600_000 })
    // acc-2: an attempt failed; its backoff runs.
    lane.finish(second.key, second.item, { kind: 'failed', endpointGone: false })
    // Another endpoint's circuit holds acc-3.
    lane.finish(other.key, other.item, { kind: 'held', reason: 'circuit-open', until: 600_000 })
    expect(lane.takeReady(10, () => true)).toEqual([])

    lane.releaseHeld('sub-1')
    expect(sourceOffsets(lane.takeReady(10, () => true))).toEqual([0])
  })
})

describe('RetryLane past RETRY_MAX_PARKED_IN_MEMORY: items held without their bytes', () => {
  function laneWithBudget (maxWithBytes: number, move: RetryLaneEffects['move'] = async () => 0n) {
    const rereads: bigint[] = []
    const settled: string[] = []
    const lane = new RetryLane('src.retry', 0, {
      nextAttempt: () => ({ kind: 'retry', at: 600_000 }),
      deadLetter: async () => {},
      disableEndpoint: () => {},
      onKeySettled: () => {},
      requestPump: () => {},
      now: () => 0,
      move,
      reread: (offset) => { rereads.push(offset) },
      onSettled: (outcome) => { settled.push(outcome) }
    }, pino({ level: 'silent' }), { maxWithBytes })
    lane.openGate()
    return { lane, rereads, settled }
  }
  const parked = (i: number): DeliveryTask => ({ ...task('acc-1', 100 + i), body: `{"n":${i}}`, webhookId: `evt-${i}` })
  const deliverHead = (lane: RetryLane): DeliveryTask | undefined => {
    const [ready] = lane.takeReady(10, () => true)
    if (ready === undefined) return undefined
    lane.finish(ready.key, ready.item, { kind: 'delivered' })
    return ready.item
  }

  it('holds items past the budget without bytes, reads heads of them again as asked, and delivers every item in order', () => {
    const { lane, rereads } = laneWithBudget(2)
    for (let i = 0; i < 5; i++) lane.accept(BigInt(10 + i), { kind: 'retry', task: parked(i) })
    expect(lane.heldItems).toBe(5)
    expect(lane.heldWithoutBytes).toBe(3)
    lane.readingAt(14n)
    // What the reader does after a seek: each record from there on, handed back as first planned when wanted.
    const readAgainFrom = (from: bigint): void => {
      for (let offset = from; offset <= 14n; offset++) {
        lane.readingAt(offset)
        if (lane.wantsReread(offset)) lane.reread(offset, { kind: 'retry', task: parked(Number(offset) - 10) })
      }
    }
    const delivered: string[] = []
    while (lane.heldItems > 0) {
      const item = deliverHead(lane)
      if (item !== undefined) {
        delivered.push(item.body)
        continue
      }
      // The head has no bytes: its key waits, and the lane has asked to read from its offset.
      expect(lane.awaitingReread).toBe(true)
      readAgainFrom(rereads.at(-1) as bigint)
    }
    expect(delivered).toEqual([0, 1, 2, 3, 4].map((i) => `{"n":${i}}`))
    // Two items with bytes (the head and one packed behind it); the three
    // without were read again in two passes (the budget holds two), each
    // asked for as soon as half the budget was free, from the lowest
    // offset still unsettled — before a head had to wait.
    expect(rereads).toEqual([11n, 13n])
    expect(lane.heldWithoutBytes).toBe(0)
    expect(lane.hasSettled(14n)).toBe(true)
  })

  it('passes over records read again that it does not need, and says when reading again is done', () => {
    const { lane } = laneWithBudget(1)
    for (let i = 0; i < 3; i++) lane.accept(BigInt(10 + i), { kind: 'retry', task: parked(i) })
    // Budget full (the head), nothing awaited: nothing read again is wanted.
    expect(lane.wantsReread(11n)).toBe(false)
    expect(lane.rereadDone(11n)).toBe(true)
    deliverHead(lane)
    // The head (11) has no bytes now: wanted; 12 waits behind it, budget full again once 11 has its bytes.
    expect(lane.wantsReread(11n)).toBe(true)
    expect(lane.rereadDone(11n)).toBe(false)
    lane.reread(11n, { kind: 'retry', task: parked(1) })
    expect(lane.rereadDone(12n)).toBe(true)
    expect(lane.wantsReread(10n)).toBe(false)
  })

  it('drops a head read again whose subscription was deleted meanwhile, and goes on with the next', () => {
    const { lane, rereads, settled } = laneWithBudget(1)
    for (let i = 0; i < 3; i++) lane.accept(BigInt(10 + i), { kind: 'retry', task: parked(i) })
    lane.readingAt(12n)
    deliverHead(lane)
    expect(rereads).toEqual([11n])
    lane.readingAt(11n)
    lane.reread(11n, { kind: 'drop', reason: 'subscription-deleted' })
    expect(settled).toEqual(['delivered', 'dropped'])
    expect(lane.hasSettled(11n)).toBe(true)
    // The next head (12) has no bytes either; the reader, reading on from 11, reaches it: no second seek.
    expect(rereads).toEqual([11n])
    lane.readingAt(12n)
    expect(lane.wantsReread(12n)).toBe(true)
    lane.reread(12n, { kind: 'retry', task: parked(2) })
    expect((deliverHead(lane) as DeliveryTask).body).toBe('{"n":2}')
  })

  it('does not move an item without its bytes: it stays where it is', async () => {
    const moved: bigint[] = []
    const { lane } = laneWithBudget(2, async (t) => { moved.push(t.source.offset); return 1_000n })
    // Three waiting items of one key (the first failed: it waits 10 minutes), then another key's item settled far above them.
    lane.accept(0n, { kind: 'retry', task: task('acc-1', 1, 1) })
    lane.accept(1n, { kind: 'retry', task: task('acc-1', 2) })
    lane.accept(2n, { kind: 'retry', task: task('acc-1', 3) })
    lane.accept(20_000n, { kind: 'retry', task: task('acc-2', 4) })
    deliverHead(lane)
    expect(lane.compact(10, 0)).toBe(2)
    await flush()
    expect(moved.sort()).toEqual([1n, 2n])
  })
})
