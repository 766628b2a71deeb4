import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DeliveryTask, RawRecord } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { orderingKey } from '../../../../services/dispatcher/src/engine/key-queues.js'
import { toParkedRecord, type OutgoingRecord } from '../../../../services/dispatcher/src/engine/parked-record.js'
import { PartitionPair } from '../../../../services/dispatcher/src/engine/partition-pair.js'
import type { RecordPlan } from '../../../../services/dispatcher/src/engine/source-lane.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'

const sub: Subscription = { id: 'sub-1', tenantId: 't1', url: 'https://example.test/hook', eventTypes: ['*'], secrets: ['whsec_x'], enabled: true }
const raw: RawRecord = { key: null, value: null, headers: {}, timestamp: 0 }
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

/**
 * A pair with fake effects: parks go to an in-memory retry partition (offsets
 * 0, 1, … in order), time stands still and every retry is due at once.
 */
function harness () {
  const parked: OutgoingRecord[] = []
  let pendingParks = 0
  const pair = new PartitionPair({
    topic: 'src',
    retryTopic: 'src.retry',
    partition: 3,
    windowLimit: 100,
    log: pino({ level: 'silent' }),
    parkSink: {
      send: async (record) => {
        pendingParks++
        await Promise.resolve()
        pendingParks--
        parked.push(record)
        return BigInt(parked.length - 1)
      },
      get pending () { return pendingParks },
      close: () => {}
    },
    sourceEffects: { deadLetter: async () => {}, disableEndpoint: () => {}, requestPump: () => {}, now: () => 0 },
    retryEffects: { nextAttempt: () => ({ kind: 'retry', at: 0 }), deadLetter: async () => {}, disableEndpoint: () => {}, requestPump: () => {}, now: () => 0 }
  })
  return { pair, parked }
}

/** A record for `account` at `offset`, planned for delivery to `sub`. */
function plan (account: string, offset: number): RecordPlan {
  return {
    kind: 'deliver',
    event: { eventId: `evt-${offset}`, eventType: 'transaction.posted', tenantId: 't1', accountId: account, accountSequence: offset, occurredAt: new Date(0) },
    body: `{"offset":${offset}}`,
    subscriptions: [sub]
  }
}

function accept (pair: PartitionPair, account: string, offset: number): void {
  pair.source.accept({ topic: 'src', partition: 3, offset: BigInt(offset) }, raw, plan(account, offset))
}

const ready = (pair: PartitionPair, lane: 'source' | 'retry'): Array<{ key: string, item: DeliveryTask }> =>
  pair[lane].takeReady(100, () => true).map((r) => ({ key: r.key, item: r.item }))
const offsets = (items: Array<{ item: DeliveryTask }>): number[] => items.map((r) => Number(r.item.source.offset))

describe('PartitionPair', () => {
  it('keeps the source lane gated until the retry partition is read up to its end at assignment', () => {
    const { pair } = harness()
    pair.setRebuildTarget(0n, 3n)
    expect(pair.rebuilt).toBe(false)
    for (const offset of [0n, 1n]) pair.retry.accept(offset, { kind: 'drop', reason: 'subscription-deleted' })
    pair.checkRebuilt()
    expect(pair.rebuilt).toBe(false)
    pair.retry.accept(2n, { kind: 'drop', reason: 'subscription-deleted' })
    pair.checkRebuilt()
    expect(pair.rebuilt).toBe(true)
    const empty = harness().pair
    empty.setRebuildTarget(5n, 5n)
    expect(empty.rebuilt).toBe(true)
  })

  it('commits each lane\'s watermark once, typed, and not again unchanged', () => {
    const { pair } = harness()
    pair.loadCommitted({ offset: 10n, metadata: null }, undefined)
    expect(pair.offsetsLoaded).toBe(true)
    expect(pair.pendingCommits()).toEqual([])
    pair.retry.accept(0n, { kind: 'drop', reason: 'subscription-deleted' })
    const entries = pair.pendingCommits()
    expect(entries.map(({ topic, partition, offset }) => ({ topic, partition, offset }))).toEqual([{ topic: 'src.retry', partition: 3, offset: 1n }])
    pair.committed(entries)
    expect(pair.pendingCommits()).toEqual([])
    expect(pair.committedOffset('src.retry:3')).toBe(1n)
    expect(pair.committedOffset('src:3')).toBe(10n)
  })
})

describe('source and retry lane, wired by the pair (C2)', () => {
  it('runs one delivery per key at a time, in offset order; other keys run alongside', () => {
    const { pair } = harness()
    accept(pair, 'acc-1', 0)
    accept(pair, 'acc-1', 1)
    accept(pair, 'acc-2', 2)
    const first = ready(pair, 'source')
    expect(offsets(first)).toEqual([0, 2])
    expect(ready(pair, 'source')).toEqual([])
    const head = first.find((r) => r.item.accountId === 'acc-1')!
    pair.source.finish(head.key, head.item, { kind: 'delivered' })
    expect(offsets(ready(pair, 'source'))).toEqual([1])
  })

  it('parks a failed head with everything behind it, blocks the key, and unblocks it only once the newest parked item is settled', async () => {
    const { pair, parked } = harness()
    const key = orderingKey('sub-1', 'acc-1')
    accept(pair, 'acc-1', 0)
    accept(pair, 'acc-1', 1)
    accept(pair, 'acc-2', 2)
    const running = ready(pair, 'source')
    const head = running.find((r) => r.item.accountId === 'acc-1')!
    pair.source.finish(key, head.item, { kind: 'failed', endpointGone: false })
    await flush()
    // The head and the one queued behind it went to the retry partition, in order.
    expect(parked.map((r) => r.value)).toEqual([null, null])
    expect(parked).toHaveLength(2)
    // A later record of the blocked key is parked straight behind, never attempted.
    accept(pair, 'acc-1', 3)
    await flush()
    expect(parked).toHaveLength(3)
    expect(ready(pair, 'source')).toEqual([])

    // The source watermark passes the parked records; acc-2's delivery is still running.
    expect(pair.pendingCommits().map((e) => [e.topic, e.offset])).toEqual([['src', 2n]])
    const other = running.find((r) => r.item.accountId === 'acc-2')!
    pair.source.finish(other.key, other.item, { kind: 'delivered' })
    expect(pair.pendingCommits()[0]?.offset).toBe(4n)

    // The retry lane reads back the first two parked items only (the third not yet read: the race).
    const tasks = [0, 1, 2].map((i) => ({ ...head.item, source: { topic: 'src', partition: 3, offset: BigInt([0, 1, 3][i] as number) }, attempts: i === 0 ? 1 : 0 }))
    pair.retry.accept(0n, { kind: 'retry', task: tasks[0]! })
    pair.retry.accept(1n, { kind: 'retry', task: tasks[1]! })
    for (let i = 0; i < 2; i++) {
      const [retryHead, ...rest] = ready(pair, 'retry')
      expect(rest).toEqual([])
      pair.retry.finish(retryHead!.key, retryHead!.item, { kind: 'delivered' })
    }
    // Nothing of the key is left in the retry lane, but the newest item parked for it is unread: still blocked.
    expect(pair.retry.holdsKey(key)).toBe(false)
    accept(pair, 'acc-1', 4)
    await flush()
    expect(parked).toHaveLength(4)
    expect(ready(pair, 'source')).toEqual([])

    // Once the retry lane has read and settled the newest parked items, the key runs from the source again.
    pair.retry.accept(2n, { kind: 'retry', task: tasks[2]! })
    pair.retry.accept(3n, { kind: 'retry', task: { ...tasks[2]!, source: { topic: 'src', partition: 3, offset: 4n } } })
    for (let i = 0; i < 2; i++) {
      const [retryHead] = ready(pair, 'retry')
      pair.retry.finish(retryHead!.key, retryHead!.item, { kind: 'delivered' })
    }
    accept(pair, 'acc-1', 5)
    expect(offsets(ready(pair, 'source'))).toEqual([5])
    expect(parked).toHaveLength(4)
  })

  it('parks what it parks as retry records that carry the delivery\'s state', async () => {
    const { pair, parked } = harness()
    accept(pair, 'acc-9', 0)
    const [head] = ready(pair, 'source')
    head!.item.attempts = 1
    head!.item.firstFailureAt = 1234
    pair.source.finish(head!.key, head!.item, { kind: 'failed', endpointGone: false })
    await flush()
    const expected = toParkedRecord(head!.item, 0)
    expect(parked[0]?.headers).toMatchObject(Object.fromEntries(Object.entries(expected.headers).filter(([name]) => name !== 'whd-parked-at')))
  })
})
