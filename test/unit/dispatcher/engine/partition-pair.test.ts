import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DeliveryTask, RawRecord } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { orderingKey } from '../../../../services/dispatcher/src/engine/key-queues.js'
import { H, toParkedRecord, type OutgoingRecord } from '../../../../services/dispatcher/src/engine/parked-record.js'
import { claimRecord } from '../../../../services/dispatcher/src/engine/handover.js'
import { PartitionPair } from '../../../../services/dispatcher/src/engine/partition-pair.js'
import type { RecordPlan } from '../../../../services/dispatcher/src/engine/source-lane.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'

const sub: Subscription = { id: 'sub-1', tenantId: 't1', url: 'https://example.test/hook', eventTypes: ['*'], secrets: ['whsec_x'], enabled: true }
const raw: RawRecord = { key: null, value: null, headers: {}, timestamp: 0 }
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

/**
 * A pair with fake effects: everything it writes goes to an in-memory retry
 * partition (offsets 0, 1, … in order), time stands still (unless `now` is
 * given) and every retry is due at once. Unless `open` is false, the pair has
 * claimed the partition (offset 0) and read its claim back: the gate is open
 * and parks start at offset 1.
 */
async function harness ({ open = true, owner = 'owner-b', now = () => 0, handoverWaitMs = 60_000 }: { open?: boolean, owner?: string, now?: () => number, handoverWaitMs?: number } = {}) {
  const log: OutgoingRecord[] = []
  let pendingParks = 0
  const append = (record: OutgoingRecord): bigint => {
    log.push(record)
    return BigInt(log.length - 1)
  }
  const pair = new PartitionPair({
    topic: 'src',
    retryTopic: 'src.retry',
    partition: 3,
    windowLimit: 100,
    owner,
    handoverWaitMs,
    log: pino({ level: 'silent' }),
    parkSink: {
      send: async (record) => {
        pendingParks++
        await Promise.resolve()
        pendingParks--
        return append(record)
      },
      get pending () { return pendingParks },
      release: async (record) => { append(record); return true },
      close: () => {}
    },
    sourceEffects: { deadLetter: async () => {}, disableEndpoint: () => {}, requestPump: () => {}, now },
    retryEffects: { nextAttempt: () => ({ kind: 'retry', at: 0 }), deadLetter: async () => {}, disableEndpoint: () => {}, requestPump: () => {}, now }
  })
  if (open) {
    await pair.claim()
    pair.readMarker(0n, { kind: 'claim', owner })
  }
  const parked = (): OutgoingRecord[] => log.filter((r) => r.headers[H.handover] === undefined)
  return { pair, log, parked }
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

function retryTask (account: string, offset: number, attempts = 0): DeliveryTask {
  return { webhookId: `evt-${offset}`, subscriptionId: 'sub-1', tenantId: 't1', accountId: account, eventType: 'transaction.posted', occurredAt: 0, body: '{}', source: { topic: 'src', partition: 3, offset: BigInt(offset) }, record: raw, attempts }
}

const ready = (pair: PartitionPair, lane: 'source' | 'retry'): Array<{ key: string, item: DeliveryTask }> =>
  pair[lane].takeReady(100, () => true).map((r) => ({ key: r.key, item: r.item }))
const offsets = (items: Array<{ item: DeliveryTask }>): number[] => items.map((r) => Number(r.item.source.offset))

describe('PartitionPair', () => {
  it('opens only once its own claim and every earlier owner\'s release are read; commits nothing before', async () => {
    const { pair, log } = await harness({ open: false })
    pair.loadCommitted(undefined, { offset: 0n, metadata: null })
    // Read from the committed position: an earlier owner's claim and a park it made.
    pair.readMarker(0n, { kind: 'claim', owner: 'owner-a' })
    pair.retry.accept(1n, { kind: 'drop', reason: 'subscription-deleted' })
    log.push(claimRecord('owner-a', 0), { key: null, value: null, headers: {} })
    await pair.claim()
    const claimAt = BigInt(log.length - 1)
    pair.readMarker(claimAt, { kind: 'claim', owner: 'owner-b' })
    expect(pair.rebuilt).toBe(false)
    expect(pair.retry.takeReady(10, () => true)).toEqual([])
    expect(pair.pendingCommits()).toEqual([])
    // The earlier owner's late parks land after our claim, then its release.
    pair.retry.accept(claimAt + 1n, { kind: 'retry', task: retryTask('acc-7', 40) })
    pair.source.blockFromRetryTopic(orderingKey('sub-1', 'acc-7'), claimAt + 1n)
    expect(pair.rebuilt).toBe(false)
    pair.readMarker(claimAt + 2n, { kind: 'release', owner: 'owner-a' })
    expect(pair.rebuilt).toBe(true)
    // The late park was read before the gate opened: its key is blocked in the source lane.
    accept(pair, 'acc-7', 41)
    await flush()
    expect(ready(pair, 'source')).toEqual([])
    expect(offsets(ready(pair, 'retry'))).toEqual([40])
    expect(pair.pendingCommits().map((e) => e.topic)).toContain('src.retry')
  })

  it('takes the partition after the handover wait when an earlier owner never releases, and flags its later parks', async () => {
    let now = 1_000
    const { pair, log } = await harness({ open: false, now: () => now, handoverWaitMs: 5_000 })
    pair.readMarker(0n, { kind: 'claim', owner: 'owner-a' })
    log.push(claimRecord('owner-a', 0))
    await pair.claim()
    const claimAt = BigInt(log.length - 1)
    pair.readMarker(claimAt, { kind: 'claim', owner: 'owner-b' })
    now += 4_999
    expect(pair.rebuilt).toBe(false)
    now += 1
    expect(pair.rebuilt).toBe(true)
    expect(pair.isLatePark(claimAt + 1n, 'owner-a')).toBe(true)
    expect(pair.isLatePark(claimAt + 1n, 'owner-b')).toBe(false)
  })

  it('ignores claims by owners after it and its own release; opens at once on a fresh partition', async () => {
    const { pair } = await harness({ open: false })
    await pair.claim()
    pair.readMarker(0n, { kind: 'claim', owner: 'owner-b' })
    expect(pair.rebuilt).toBe(true)
    pair.readMarker(1n, { kind: 'claim', owner: 'owner-c' })
    expect(pair.rebuilt).toBe(true)
  })

  it('hands over: waits for running attempts, then writes its release behind its last park', async () => {
    const { pair, log } = await harness()
    accept(pair, 'acc-1', 0)
    const [running] = ready(pair, 'source')
    pair.close()
    let released: boolean | undefined
    void pair.handOver(() => true, 1).then((r) => { released = r })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(released).toBeUndefined()
    pair.source.finish(running!.key, running!.item, { kind: 'delivered' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(released).toBe(true)
    expect(log.at(-1)?.headers).toMatchObject({ [H.handover]: 'release', [H.owner]: 'owner-b' })
  })

  it('commits each lane\'s watermark once, typed, and not again unchanged; the retry commit names its owner', async () => {
    const { pair } = await harness()
    // As this owner would have committed after reading its claim (offset 0).
    pair.loadCommitted({ offset: 10n, metadata: null }, { offset: 1n, metadata: 'whd1:;@owner=owner-b' })
    expect(pair.offsetsLoaded).toBe(true)
    expect(pair.pendingCommits()).toEqual([])
    pair.retry.accept(1n, { kind: 'drop', reason: 'subscription-deleted' })
    pair.source.accept({ topic: 'src', partition: 3, offset: 10n }, raw, { kind: 'drop', reason: 'no-subscription' })
    const entries = pair.pendingCommits()
    expect(entries.map(({ topic, partition, offset }) => ({ topic, partition, offset }))).toEqual([{ topic: 'src', partition: 3, offset: 11n }, { topic: 'src.retry', partition: 3, offset: 2n }])
    expect(entries[1]?.metadata).toBe('whd1:;@owner=owner-b')
    pair.committed(entries)
    expect(pair.pendingCommits()).toEqual([])
    expect(pair.committedOffset('src:3')).toBe(11n)
    expect(pair.committedOffset('src.retry:3')).toBe(2n)
  })

  it('waits for the owner the retry commit names, whose claim lies below the commit', async () => {
    const { pair, log } = await harness({ open: false })
    pair.loadCommitted(undefined, { offset: 5n, metadata: 'whd1:;@owner=owner-a' })
    for (let i = 0; i < 5; i++) log.push({ key: null, value: null, headers: {} })
    await pair.claim()
    pair.readMarker(5n, { kind: 'claim', owner: 'owner-b' })
    expect(pair.rebuilt).toBe(false)
    pair.readMarker(6n, { kind: 'release', owner: 'owner-a' })
    expect(pair.rebuilt).toBe(true)
  })
})

describe('source and retry lane, wired by the pair (C2)', () => {
  it('runs one delivery per key at a time, in offset order; other keys run alongside', async () => {
    const { pair } = await harness()
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
    const { pair, parked: parkedNow } = await harness()
    const key = orderingKey('sub-1', 'acc-1')
    accept(pair, 'acc-1', 0)
    accept(pair, 'acc-1', 1)
    accept(pair, 'acc-2', 2)
    const running = ready(pair, 'source')
    const head = running.find((r) => r.item.accountId === 'acc-1')!
    pair.source.finish(key, head.item, { kind: 'failed', endpointGone: false })
    await flush()
    // The head and the one queued behind it went to the retry partition, in order.
    expect(parkedNow().map((r) => r.value)).toEqual([null, null])
    expect(parkedNow()).toHaveLength(2)
    // A later record of the blocked key is parked straight behind, never attempted.
    accept(pair, 'acc-1', 3)
    await flush()
    expect(parkedNow()).toHaveLength(3)
    expect(ready(pair, 'source')).toEqual([])

    // The source watermark passes the parked records; acc-2's delivery is still running.
    const sourceCommit = (): bigint | undefined => pair.pendingCommits().find((e) => e.topic === 'src')?.offset
    expect(sourceCommit()).toBe(2n)
    const other = running.find((r) => r.item.accountId === 'acc-2')!
    pair.source.finish(other.key, other.item, { kind: 'delivered' })
    expect(sourceCommit()).toBe(4n)

    // The retry lane reads back the first two parked items only (the third not yet read: the race).
    const tasks = [0, 1, 2].map((i) => ({ ...head.item, source: { topic: 'src', partition: 3, offset: BigInt([0, 1, 3][i] as number) }, attempts: i === 0 ? 1 : 0 }))
    pair.retry.accept(1n, { kind: 'retry', task: tasks[0]! })
    pair.retry.accept(2n, { kind: 'retry', task: tasks[1]! })
    for (let i = 0; i < 2; i++) {
      const [retryHead, ...rest] = ready(pair, 'retry')
      expect(rest).toEqual([])
      pair.retry.finish(retryHead!.key, retryHead!.item, { kind: 'delivered' })
    }
    // Nothing of the key is left in the retry lane, but the newest item parked for it is unread: still blocked.
    expect(pair.retry.holdsKey(key)).toBe(false)
    accept(pair, 'acc-1', 4)
    await flush()
    expect(parkedNow()).toHaveLength(4)
    expect(ready(pair, 'source')).toEqual([])

    // Once the retry lane has read and settled the newest parked items, the key runs from the source again.
    pair.retry.accept(3n, { kind: 'retry', task: tasks[2]! })
    pair.retry.accept(4n, { kind: 'retry', task: { ...tasks[2]!, source: { topic: 'src', partition: 3, offset: 4n } } })
    for (let i = 0; i < 2; i++) {
      const [retryHead] = ready(pair, 'retry')
      pair.retry.finish(retryHead!.key, retryHead!.item, { kind: 'delivered' })
    }
    accept(pair, 'acc-1', 5)
    expect(offsets(ready(pair, 'source'))).toEqual([5])
    expect(parkedNow()).toHaveLength(4)
  })

  it('parks what it parks as retry records that carry the delivery\'s state', async () => {
    const { pair, parked: parkedNow } = await harness()
    accept(pair, 'acc-9', 0)
    const [head] = ready(pair, 'source')
    head!.item.attempts = 1
    head!.item.firstFailureAt = 1234
    pair.source.finish(head!.key, head!.item, { kind: 'failed', endpointGone: false })
    await flush()
    const expected = toParkedRecord(head!.item, 0, 'owner-b')
    expect(parkedNow()[0]?.headers).toMatchObject(Object.fromEntries(Object.entries(expected.headers).filter(([name]) => name !== 'whd-parked-at')))
  })
})
