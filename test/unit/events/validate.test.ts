import { describe, expect, it } from 'vitest'
import { EventValidationError, findEventIssues, validateEvent } from '../../../services/events/src/index.js'
import { accountStatusEvent, fraudAlertEvent, transactionEvent } from './fixtures.js'

function fieldsOf (issues: Array<{ field: string }>): string[] {
  return issues.map((issue) => issue.field)
}

describe('validateEvent', () => {
  it('accepts valid events of every family', () => {
    expect(findEventIssues('transactions', transactionEvent())).toEqual([])
    expect(findEventIssues('accounts', accountStatusEvent())).toEqual([])
    expect(findEventIssues('fraud', fraudAlertEvent())).toEqual([])
  })

  it('accepts omitted optional fields', () => {
    const { counterparty: _c, merchant: _m, balanceAfter: _b, description: _d, declineReason: _r, reversedTransactionId: _x, ...minimal } = transactionEvent()
    expect(findEventIssues('transactions', minimal)).toEqual([])
    const { changedFields: _f, reason: _reason, ...account } = accountStatusEvent()
    expect(findEventIssues('accounts', account)).toEqual([])
  })

  it('throws EventValidationError whose field and message name the path', () => {
    const attempt = (): void => validateEvent('transactions', transactionEvent({ amount: '12.34567' }))
    expect(attempt).toThrow(EventValidationError)
    try {
      attempt()
    } catch (err) {
      const error = err as EventValidationError
      expect(error.code).toBe('WHE_ERR_VALIDATION')
      expect(error.retriable).toBe(false)
      expect(error.field).toBe('amount')
      expect(error.message).toMatch(/amount: has 5 fraction digits; at most 4 allowed/)
    }
  })

  it.each([
    ['amount', { amount: '1.00001' }, /fraction digits/],
    ['amount', { amount: '1000000000000000' }, /exceeds 19 significant digits/],
    ['amount', { amount: 12.5 }, /decimal string/],
    ['amount', { amount: '-5' }, /must not be negative/],
    ['balanceAfter', { balanceAfter: '1.123456' }, /fraction digits/],
    ['currency', { currency: 'eur' }, /ISO 4217/],
    ['currency', { currency: 'EURO' }, /ISO 4217/],
    ['direction', { direction: 'SIDEWAYS' }, /one of CREDIT, DEBIT/],
    ['eventId', { eventId: 'not-a-uuid' }, /UUID/],
    ['eventType', { eventType: 'account.opened' }, /must be one of transaction\.authorized/],
    ['occurredAt', { occurredAt: 1_700_000_000_000 }, /valid Date/],
    ['occurredAt', { occurredAt: new Date(Number.NaN) }, /valid Date/],
    ['tenantId', { tenantId: '' }, /must not be empty/],
    ['accountId', { accountId: '  ' }, /must not be empty/],
    ['accountSequence', { accountSequence: 0 }, /positive integer/],
    ['accountSequence', { accountSequence: 1.5 }, /a 64-bit integer/],
    ['accountSequence', { accountSequence: 2 ** 53 }, /a 64-bit integer \(a safe-integer number, or a bigint/],
    ['accountSequence', { accountSequence: 2n ** 63n }, /a 64-bit integer/],
    ['accountSequence', { accountSequence: 0n }, /positive integer/],
    ['transactionId', { transactionId: '' }, /must not be empty/],
    ['merchant.mcc', { merchant: { name: 'Shop', mcc: '54' } }, /four-digit/],
    ['merchant.mcc', { merchant: { name: 'Shop', mcc: 5411 } }, /a string/],
    ['merchant.country', { merchant: { name: 'Shop', mcc: '5411', country: 'DEU' } }, /alpha-2/],
    ['counterparty.iban', { counterparty: { name: 'Ann', iban: 'DE89 3704' } }, /IBAN/],
    ['counterparty.bic', { counterparty: { name: 'Ann', bic: 'DEUT' } }, /BIC/],
    ['counterparty.name', { counterparty: { name: '' } }, /must not be empty/],
    ['declineReason', { eventType: 'transaction.declined', declineReason: null }, /required on transaction\.declined/],
    ['reversedTransactionId', { eventType: 'transaction.reversed' }, /required on transaction\.reversed/],
    ['merchnat', { merchnat: { name: 'typo' } } as object, /not a field of the schema/],
    ['merchant.citty', { merchant: { name: 'Shop', mcc: '5411', citty: 'Berlin' } } as object, /not a field of the schema/]
  ])('transactions: %s', (field, overrides, message) => {
    const issues = findEventIssues('transactions', { ...transactionEvent(), ...overrides })
    expect(fieldsOf(issues)).toContain(field)
    expect(issues.find((issue) => issue.field === field)?.message).toMatch(message)
  })

  it('reports a missing required field as required', () => {
    const { currency: _currency, ...event } = transactionEvent()
    const issues = findEventIssues('transactions', event)
    expect(issues).toEqual([{ field: 'currency', message: 'is required' }])
  })

  it.each([
    ['newStatus', { newStatus: 'DORMANT' }, /one of PENDING, ACTIVE, FROZEN, CLOSED/],
    ['previousStatus', { eventType: 'account.opened', previousStatus: 'ACTIVE', newStatus: 'ACTIVE' }, /null on account\.opened/],
    ['newStatus', { eventType: 'account.opened', previousStatus: null, newStatus: 'FROZEN' }, /PENDING or ACTIVE/],
    ['newStatus', { eventType: 'account.frozen', newStatus: 'ACTIVE' }, /FROZEN on account\.frozen/],
    ['newStatus', { eventType: 'account.closed', newStatus: 'FROZEN' }, /CLOSED on account\.closed/],
    ['accountType', { accountType: 'GOLD' }, /one of CHECKING/],
    ['changedFields.1', { changedFields: ['status', 7] }, /a string/],
    ['eventType', { eventType: 'transaction.posted' }, /must be one of account\.opened/]
  ])('accounts: %s', (field, overrides, message) => {
    const issues = findEventIssues('accounts', { ...accountStatusEvent(), ...overrides })
    expect(fieldsOf(issues)).toContain(field)
    expect(issues.find((issue) => issue.field === field)?.message).toMatch(message)
  })

  it.each([
    ['riskScore', { riskScore: 1001 }, /from 0 to 1000/],
    ['riskScore', { riskScore: -1 }, /from 0 to 1000/],
    ['riskScore', { riskScore: 12.5 }, /32-bit integer/],
    ['reasonCodes', { reasonCodes: 'VELOCITY' }, /an array of strings/],
    ['reasonCodes.1', { reasonCodes: ['VELOCITY', ''] }, /must not be empty/],
    ['recommendedAction', { recommendedAction: 'PANIC' }, /one of NONE, REVIEW/],
    ['resolution', { eventType: 'fraud_alert.resolved', resolution: null }, /required on fraud_alert\.resolved/],
    ['resolution', { eventType: 'fraud_alert.raised', resolution: 'FALSE_POSITIVE' }, /must be null unless/],
    ['resolution', { eventType: 'fraud_alert.resolved', resolution: 'MAYBE' }, /one of CONFIRMED_FRAUD, FALSE_POSITIVE/],
    ['alertId', { alertId: '' }, /must not be empty/]
  ])('fraud: %s', (field, overrides, message) => {
    const issues = findEventIssues('fraud', { ...fraudAlertEvent(), ...overrides })
    expect(fieldsOf(issues)).toContain(field)
    expect(issues.find((issue) => issue.field === field)?.message).toMatch(message)
  })

  it('accepts the edges of the ranges', () => {
    expect(findEventIssues('fraud', fraudAlertEvent({ riskScore: 0 }))).toEqual([])
    expect(findEventIssues('fraud', fraudAlertEvent({ riskScore: 1000 }))).toEqual([])
    expect(findEventIssues('transactions', transactionEvent({ amount: '0', accountSequence: 1 }))).toEqual([])
    expect(findEventIssues('transactions', transactionEvent({ amount: '999999999999999.9999', accountSequence: 9_007_199_254_740_990 }))).toEqual([])
    // Any Java long: a bigint beyond JavaScript's safe integers.
    expect(findEventIssues('transactions', transactionEvent({ accountSequence: 2n ** 53n + 1n }))).toEqual([])
    expect(findEventIssues('transactions', transactionEvent({ accountSequence: 2n ** 63n - 1n }))).toEqual([])
  })

  it('refuses things that are not objects', () => {
    for (const value of [null, undefined, 'event', 42, []]) {
      expect(findEventIssues('transactions', value)).toEqual([{ field: '', message: expect.stringMatching(/must be an object/) as string }])
    }
  })

  it('lists every issue and names the first in field', () => {
    try {
      validateEvent('transactions', transactionEvent({ amount: 'x', currency: 'x' }))
      expect.unreachable()
    } catch (err) {
      const error = err as EventValidationError
      expect(error.field).toBe('amount')
      expect(fieldsOf([...error.issues])).toEqual(['amount', 'currency'])
      expect(error.message).toMatch(/and 1 more: currency/)
    }
  })
})

describe('an event of another family', () => {
  it('is reported by its eventType first', () => {
    const issues = findEventIssues('transactions', accountStatusEvent())
    expect(issues[0]?.field).toBe('eventType')
    expect(issues.map((issue) => issue.field)).toContain('transactionId')
  })
})
