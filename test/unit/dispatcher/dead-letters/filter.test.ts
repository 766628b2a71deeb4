import { describe, expect, it } from 'vitest'
import { H } from '../../../../services/dispatcher/src/engine/parked-record.js'
import { matchesFilter, summarizeDeadLetter, type DeadLetterSummary, type RedriveFilter } from '../../../../services/dispatcher/src/dead-letters/filter.js'
import { T, deadLetter, undecodableLetter } from './fixtures.js'

describe('summarizeDeadLetter', () => {
  it('reads what a filter looks at from a dispatcher-written dead letter', () => {
    expect(summarizeDeadLetter(deadLetter({ account: 'acc-7', partition: 5, offset: 1234567890123n, reason: 'endpoint-gone', deadLetteredAt: T + 5 }))).toEqual({
      subscriptionId: 'sub-a',
      accountId: 'acc-7',
      reason: 'endpoint-gone',
      deadLetteredAt: T + 5,
      sourceTopic: 'banking.transactions.v1',
      sourcePartition: 5,
      sourceOffset: '1234567890123'
    })
  })

  it('leaves out the subscription of an undecodable record', () => {
    const summary = summarizeDeadLetter(undecodableLetter())
    expect(summary.subscriptionId).toBeUndefined()
    expect(summary.reason).toBe('bad-magic-byte')
    expect(summary.accountId).toBe('acc-000001')
  })

  it('accepts string and repeated header values as kafkajs may deliver them', () => {
    const summary = summarizeDeadLetter({
      key: Buffer.from('acc-1'),
      value: null,
      headers: { [H.subscriptionId]: ['sub-x', 'sub-y'], [H.deadLetteredAt]: String(T), [H.reason]: [Buffer.from('retries-exhausted')] }
    })
    expect(summary).toEqual({ subscriptionId: 'sub-x', accountId: 'acc-1', deadLetteredAt: T, reason: 'retries-exhausted' })
  })

  it('drops missing, empty and malformed fields instead of guessing', () => {
    expect(summarizeDeadLetter({ key: null, value: null })).toEqual({})
    expect(summarizeDeadLetter({
      key: Buffer.alloc(0),
      value: null,
      headers: { [H.subscriptionId]: '', [H.deadLetteredAt]: 'yesterday', [H.sourcePartition]: '1.5', [H.reason]: Buffer.alloc(0) }
    })).toEqual({})
    expect(summarizeDeadLetter({ key: null, value: null, headers: { [H.deadLetteredAt]: '99999999999999999999' } })).toEqual({})
  })
})

const letter: DeadLetterSummary = {
  subscriptionId: 'sub-a',
  accountId: 'acc-1',
  reason: 'retries-exhausted',
  deadLetteredAt: T,
  sourceTopic: 'banking.transactions.v1',
  sourcePartition: 0,
  sourceOffset: '7'
}

describe('matchesFilter', () => {
  it('selects everything with an empty filter, even a letter that says nothing about itself', () => {
    expect(matchesFilter(letter, {})).toBe(true)
    expect(matchesFilter({}, {})).toBe(true)
    expect(matchesFilter({}, { subscriptionIds: [], accountIds: [], reasons: [], sourceTopics: [] })).toBe(true)
  })

  const listCriteria: Array<{ name: string, field: keyof DeadLetterSummary, filter: (values: string[]) => RedriveFilter, value: string }> = [
    { name: 'subscription', field: 'subscriptionId', filter: (v) => ({ subscriptionIds: v }), value: 'sub-a' },
    { name: 'account', field: 'accountId', filter: (v) => ({ accountIds: v }), value: 'acc-1' },
    { name: 'reason', field: 'reason', filter: (v) => ({ reasons: v }), value: 'retries-exhausted' },
    { name: 'source topic', field: 'sourceTopic', filter: (v) => ({ sourceTopics: v }), value: 'banking.transactions.v1' }
  ]

  describe.each(listCriteria)('by $name', ({ field, filter, value }) => {
    it('selects an exact match', () => {
      expect(matchesFilter(letter, filter([value]))).toBe(true)
    })
    it('selects when any listed value matches', () => {
      expect(matchesFilter(letter, filter(['other', value]))).toBe(true)
    })
    it('rejects other values, prefixes and case variants', () => {
      expect(matchesFilter(letter, filter(['other']))).toBe(false)
      expect(matchesFilter(letter, filter([value.slice(0, -1)]))).toBe(false)
      expect(matchesFilter(letter, filter([value.toUpperCase()]))).toBe(false)
    })
    it('rejects a letter without the field', () => {
      const without = { ...letter }
      delete without[field]
      expect(matchesFilter(without, filter([value]))).toBe(false)
    })
  })

  describe('by dead-lettered time', () => {
    it('includes from and excludes to, so [from, to) ranges tile', () => {
      expect(matchesFilter(letter, { from: T })).toBe(true)
      expect(matchesFilter(letter, { from: T + 1 })).toBe(false)
      expect(matchesFilter(letter, { to: T })).toBe(false)
      expect(matchesFilter(letter, { to: T + 1 })).toBe(true)
      expect(matchesFilter(letter, { from: T - 1000, to: T + 1000 })).toBe(true)
      expect(matchesFilter(letter, { from: T - 1000, to: T })).toBe(false)
      expect(matchesFilter(letter, { from: T, to: T + 1 })).toBe(true)
      expect(matchesFilter(letter, { from: T + 1, to: T + 1000 })).toBe(false)
    })

    it('treats epoch 0 as a real bound', () => {
      expect(matchesFilter({ ...letter, deadLetteredAt: 0 }, { from: 0 })).toBe(true)
      expect(matchesFilter({ ...letter, deadLetteredAt: 0 }, { to: 0 })).toBe(false)
    })

    it('puts a letter without a dead-letter time outside any range', () => {
      const { deadLetteredAt: _, ...timeless } = letter
      expect(matchesFilter(timeless, { from: 0 })).toBe(false)
      expect(matchesFilter(timeless, { to: Number.MAX_SAFE_INTEGER })).toBe(false)
      expect(matchesFilter(timeless, {})).toBe(true)
    })
  })

  it('requires every criterion that is set', () => {
    const all: RedriveFilter = {
      subscriptionIds: ['sub-a'], accountIds: ['acc-1'], reasons: ['retries-exhausted'], sourceTopics: ['banking.transactions.v1'], from: T, to: T + 1
    }
    expect(matchesFilter(letter, all)).toBe(true)
    expect(matchesFilter(letter, { ...all, subscriptionIds: ['sub-b'] })).toBe(false)
    expect(matchesFilter(letter, { ...all, accountIds: ['acc-2'] })).toBe(false)
    expect(matchesFilter(letter, { ...all, reasons: ['endpoint-gone'] })).toBe(false)
    expect(matchesFilter(letter, { ...all, sourceTopics: ['banking.accounts.v1'] })).toBe(false)
    expect(matchesFilter(letter, { ...all, from: T + 1, to: T + 2 })).toBe(false)
  })

  it('works on summaries read from real dead letters', () => {
    const a = summarizeDeadLetter(deadLetter({ account: 'acc-a', deadLetteredAt: T }))
    const b = summarizeDeadLetter(deadLetter({ account: 'acc-b', deadLetteredAt: T + 10_000 }))
    const poison = summarizeDeadLetter(undecodableLetter({ account: 'acc-a' }))
    const byAccount = { accountIds: ['acc-a'] }
    expect([a, b, poison].map((l) => matchesFilter(l, byAccount))).toEqual([true, false, true])
    expect([a, b, poison].map((l) => matchesFilter(l, { subscriptionIds: ['sub-a'] }))).toEqual([true, true, false])
    expect([a, b, poison].map((l) => matchesFilter(l, { from: T + 1 }))).toEqual([false, true, false])
  })
})
