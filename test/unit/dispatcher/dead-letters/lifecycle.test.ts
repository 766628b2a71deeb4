import { describe, expect, it } from 'vitest'
import {
  conflictingRedrive,
  deadLetterId,
  decodeStateRecord,
  encodeLifecycle,
  encodeLock,
  filtersOverlap,
  foldStateRecords,
  LOCK_EXPIRY_MS,
  readLineage,
  redrivenLifecycle,
  settledLifecycle,
  stateOf,
  type RedriveLock,
  type StateRecord
} from '../../../../services/dispatcher/src/dead-letters/lifecycle.js'
import { H, readParkedState, toDeadLetterRecord, toParkedRecord } from '../../../../services/dispatcher/src/engine/parked-record.js'
import { planRedrive } from '../../../../services/dispatcher/src/dead-letters/plan.js'
import type { DeliveryTask } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { T, consumed, deadLetter } from './fixtures.js'

const stamp = { redriveId: 'r-1', redrivenAt: T, redrivenBy: 'cli:ops@host' }
const decode = (record: { key: Buffer, value: Buffer | null }): StateRecord => {
  const decoded = decodeStateRecord(record.key, record.value)
  if (decoded === undefined) throw new Error('not a state record')
  return decoded
}
const lock = (filter: RedriveLock['filter'], heartbeatAt = T, redriveId = 'r-x'): RedriveLock => ({ ...stamp, redriveId, filter, heartbeatAt })

describe('the state records', () => {
  it('round-trip a letter\'s lifecycle and a lock, and read tombstones as deletions', () => {
    const lifecycle = redrivenLifecycle(undefined, stamp)
    expect(lifecycle).toEqual({ ...stamp, state: 'redriven', at: T, redrives: 1 })
    expect(decode(encodeLifecycle('dlq:1:7', lifecycle))).toEqual({ kind: 'letter', id: 'dlq:1:7', lifecycle })
    expect(decode({ key: Buffer.from('dlq:1:7'), value: null })).toEqual({ kind: 'letter', id: 'dlq:1:7', lifecycle: undefined })
    expect(decode(encodeLock(lock({ subscriptionIds: ['s'] }), 'r-2'))).toEqual({ kind: 'lock', redriveId: 'r-2', lock: lock({ subscriptionIds: ['s'] }) })
    expect(decode(encodeLock(undefined, 'r-2'))).toEqual({ kind: 'lock', redriveId: 'r-2', lock: undefined })
  })

  it('ignores records someone else wrote', () => {
    expect(decodeStateRecord(null, Buffer.from('{}'))).toBeUndefined()
    expect(decodeStateRecord(Buffer.from('x'), Buffer.from('not json'))).toBeUndefined()
    expect(decodeStateRecord(Buffer.from('x'), Buffer.from('{"state":"dead"}'))).toBeUndefined()
    expect(decodeStateRecord(Buffer.from('x'), Buffer.from('{"state":"gone"}'))).toBeUndefined()
  })

  it('fold to the last word per letter; a redrive counts the ones before it', () => {
    const first = redrivenLifecycle(undefined, stamp)
    const view = foldStateRecords([
      decode(encodeLifecycle('a', first)),
      decode(encodeLifecycle('b', first)),
      decode(encodeLifecycle('a', settledLifecycle({ ...stamp, deadLetterId: 'a', redrives: 1 }, { kind: 'dead-again', reason: 'retries-exhausted' }, T + 5))),
      decode({ key: Buffer.from('b'), value: null })
    ])
    expect(stateOf(view, 'a')).toBe('dead-again')
    expect(view.letters.get('a')).toMatchObject({ reason: 'retries-exhausted', at: T + 5, redrives: 1 })
    expect(stateOf(view, 'b')).toBe('dead')
    expect(redrivenLifecycle(view.letters.get('a'), { ...stamp, redriveId: 'r-2' })).toMatchObject({ state: 'redriven', redrives: 2, redriveId: 'r-2' })
  })
})

describe('lineage', () => {
  const task: DeliveryTask = {
    webhookId: 'evt-1', subscriptionId: 'sub-a', tenantId: 't', accountId: 'acc-000001', eventType: 'transaction.posted', occurredAt: T, body: '{}',
    source: { topic: 'banking.transactions.v1', partition: 3, offset: 42n }, record: { key: null, value: null, headers: {}, timestamp: T }, attempts: 0
  }

  it('is written by a redrive with a lifecycle, and survives re-parking and a second dead letter', () => {
    const decision = planRedrive(deadLetter(), {}, { retryTopicSuffix: '.retry', now: T, lifecycle: { letters: new Map(), again: false, stamp } }, { topic: 'dlq', partition: 0, offset: '9' })
    if (decision.kind !== 'redrive') throw new Error(decision.kind)
    expect(decision.lifecycle).toEqual({ id: deadLetterId('dlq', 0, '9'), record: { ...stamp, state: 'redriven', at: T, redrives: 1 } })
    const retryRecord = consumed(decision.record)
    const lineage = { ...stamp, deadLetterId: 'dlq:0:9', redrives: 1 }
    expect(readLineage(retryRecord.headers)).toEqual(lineage)
    // The retry lane reads it, parks it again, dead-letters it again.
    const parked = readParkedState(retryRecord)
    const reparked = consumed(toParkedRecord({ ...task, record: parked.record }, T + 1))
    expect(readLineage(reparked.headers)).toEqual(lineage)
    const again = consumed(toDeadLetterRecord({ ...readParkedState(reparked), attempts: 3 }, 'retries-exhausted', T + 2))
    expect(readLineage(again.headers)).toEqual(lineage)
  })

  it('of an earlier redrive is replaced, not kept, by the next redrive', () => {
    const old = deadLetter({ headers: { [H.redriveOf]: 'dlq:0:1', [H.redriveId]: 'r-0', [H.redrives]: '1' } })
    const decision = planRedrive(old, {}, { retryTopicSuffix: '.retry', now: T, lifecycle: { letters: new Map(), again: false, stamp } }, { topic: 'dlq', partition: 0, offset: '5' })
    if (decision.kind !== 'redrive') throw new Error(decision.kind)
    expect(readLineage(consumed(decision.record).headers)).toMatchObject({ deadLetterId: 'dlq:0:5', redriveId: 'r-1' })
    // Without a lifecycle (no state topic), no lineage at all.
    const plain = planRedrive(old, {}, { retryTopicSuffix: '.retry', now: T })
    if (plain.kind !== 'redrive') throw new Error(plain.kind)
    expect(readLineage(consumed(plain.record).headers)).toBeUndefined()
  })

  it('lets a redrive skip letters redriven before, unless again', () => {
    const letters = new Map([[deadLetterId('dlq', 0, '9'), { ...stamp, state: 'delivered' as const, at: T, redrives: 1 }]])
    const skip = planRedrive(deadLetter(), {}, { retryTopicSuffix: '.retry', now: T, lifecycle: { letters, again: false, stamp: { ...stamp, redriveId: 'r-2' } } }, { topic: 'dlq', partition: 0, offset: '9' })
    expect(skip).toMatchObject({ kind: 'skip', reason: 'already-redriven', detail: expect.stringContaining('delivered') })
    const again = planRedrive(deadLetter(), {}, { retryTopicSuffix: '.retry', now: T, lifecycle: { letters, again: true, stamp: { ...stamp, redriveId: 'r-2' } } }, { topic: 'dlq', partition: 0, offset: '9' })
    expect(again).toMatchObject({ kind: 'redrive', lifecycle: { record: { redrives: 2, redriveId: 'r-2' } } })
  })
})

describe('filtersOverlap', () => {
  it.each([
    [{}, {}, true],
    [{ subscriptionIds: ['a'] }, {}, true],
    [{ subscriptionIds: ['a'] }, { subscriptionIds: ['b'] }, false],
    [{ subscriptionIds: ['a', 'b'] }, { subscriptionIds: ['b'] }, true],
    [{ accountIds: ['x'] }, { subscriptionIds: ['b'], accountIds: ['y'] }, false],
    [{ reasons: ['endpoint-gone'] }, { reasons: ['retries-exhausted'] }, false],
    [{ sourceTopics: ['t1'] }, { sourceTopics: ['t2'] }, false],
    [{ from: 0, to: 10 }, { from: 10, to: 20 }, false],
    [{ from: 0, to: 11 }, { from: 10 }, true],
    [{ to: 5 }, { from: 6 }, false]
  ])('%j and %j: %s', (a, b, overlap) => {
    expect(filtersOverlap(a, b)).toBe(overlap)
    expect(filtersOverlap(b, a)).toBe(overlap)
  })
})

describe('conflictingRedrive', () => {
  const view = (...locks: Array<[string, RedriveLock]>): { locks: Array<{ redriveId: string, lock: RedriveLock }> } => ({ locks: locks.map(([redriveId, l]) => ({ redriveId, lock: l })) })

  it('makes the later of two overlapping redrives give way, whichever instance runs it', () => {
    const both = view(['first', lock({ subscriptionIds: ['a'] })], ['second', lock({})])
    expect(conflictingRedrive(both, 'second', T)?.redriveId).toBe('first')
    expect(conflictingRedrive(both, 'first', T)).toBeUndefined()
  })

  it('lets disjoint redrives run side by side, and ignores a lock that stopped beating', () => {
    expect(conflictingRedrive(view(['first', lock({ subscriptionIds: ['a'] })], ['second', lock({ subscriptionIds: ['b'] })]), 'second', T)).toBeUndefined()
    expect(conflictingRedrive(view(['dead', lock({}, T - LOCK_EXPIRY_MS - 1)], ['mine', lock({})]), 'mine', T)).toBeUndefined()
    expect(conflictingRedrive(view(['alive', lock({}, T - LOCK_EXPIRY_MS)], ['mine', lock({})]), 'mine', T)?.redriveId).toBe('alive')
  })

  it('keeps a lock\'s first place when its heartbeat rewrites it', () => {
    const folded = foldStateRecords([
      decode(encodeLock(lock({}), 'first')),
      decode(encodeLock(lock({}), 'second')),
      decode(encodeLock(lock({}, T + 30_000), 'first'))
    ])
    expect(folded.locks.map((l) => l.redriveId)).toEqual(['first', 'second'])
    expect(conflictingRedrive(folded, 'second', T + 30_000)?.redriveId).toBe('first')
  })
})
