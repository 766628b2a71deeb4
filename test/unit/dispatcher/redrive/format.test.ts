import { describe, expect, it } from 'vitest'
import { formatProgress, formatRecord, formatSummary } from '../../../../services/dispatcher/src/redrive/format.js'
import { planRedrive, type RedriveDecision } from '../../../../services/dispatcher/src/dead-letters/plan.js'
import type { RedriveRecordEvent, RedriveResult } from '../../../../services/dispatcher/src/redrive/run.js'
import { T, deadLetter, undecodableLetter } from '../dead-letters/fixtures.js'

function event (decision: RedriveDecision, dryRun: boolean): RedriveRecordEvent {
  if (decision.kind === 'unmatched') throw new Error('unmatched')
  return { deadLetter: { topic: 'webhooks.dead-letter', partition: 1, offset: '42' }, decision, dryRun }
}

const options = { retryTopicSuffix: '.retry', now: T + 1000 }

describe('formatProgress', () => {
  it('shows the four counts against what there is to scan', () => {
    expect(formatProgress({ scanned: 120, toScan: 500, matched: 10, redriven: 9, skipped: 1, dryRun: false }))
      .toBe('redrive: scanned 120 of 500, matched 10, redriven 9, skipped 1')
    expect(formatProgress({ scanned: 1, toScan: 2, matched: 1, redriven: 1, skipped: 0, dryRun: true }))
      .toBe('redrive (dry run): scanned 1 of 2, matched 1, would redrive 1, skipped 0')
  })
})

describe('formatRecord', () => {
  const redrive = planRedrive(deadLetter({ account: 'acc-000001', partition: 3, offset: 7n }), {}, options)

  it('names the dead letter, what it is, and where it goes', () => {
    expect(formatRecord(event(redrive, false))).toBe(
      'redriven webhooks.dead-letter:1@42 subscription=sub-a account="acc-000001" reason=retries-exhausted ' +
      `dead-lettered-at=${new Date(T).toISOString()} source=banking.transactions.v1:3@7 -> banking.transactions.v1.retry:3`
    )
    expect(formatRecord(event(redrive, true))).toMatch(/^would redrive webhooks\.dead-letter:1@42 /)
  })

  it('says why a letter is skipped', () => {
    const skip = planRedrive(undecodableLetter(), {}, options)
    expect(formatRecord(event(skip, false))).toMatch(/^skipped webhooks\.dead-letter:1@42 account="acc-000001" reason=bad-magic-byte .*\(no-subscription: the source record could not be decoded/)
    expect(formatRecord(event(skip, true))).toMatch(/^would skip /)
  })

  it('quotes account ids, so odd keys stay on one line', () => {
    const odd = planRedrive(deadLetter({ account: 'acc 1\nx' }), {}, options)
    expect(formatRecord(event(odd, false))).toContain('account="acc 1\\nx"')
    expect(formatRecord(event(odd, false))).not.toContain('\n')
  })
})

describe('formatSummary', () => {
  const base: RedriveResult = {
    redriveId: 'r-1',
    scanned: 10, toScan: 10, matched: 6, redriven: 5, skipped: 1, dryRun: false, complete: true,
    skippedByReason: { 'no-subscription': 1 },
    redrivenByTarget: { 't.retry:2': 3, 't.retry:10': 1, 'a.retry:0': 1 }
  }

  it('totals, then redrives per target and skips per reason', () => {
    expect(formatSummary(base).split('\n')).toEqual([
      'redrive complete: scanned 10 of 10, matched 6, redriven 5, skipped 1',
      '  redrive id: r-1',
      '  redriven to a.retry:0: 1',
      '  redriven to t.retry:10: 1',
      '  redriven to t.retry:2: 3',
      '  skipped (no-subscription): 1'
    ])
  })

  it('says when nothing was written or the scan was cut short', () => {
    expect(formatSummary({ ...base, dryRun: true })).toMatch(/^dry run, nothing written: .* would redrive 5/)
    expect(formatSummary({ ...base, complete: false })).toMatch(/^redrive interrupted: /)
    expect(formatSummary({ ...base, dryRun: true, complete: false })).toContain('interrupted before the end')
  })
})
