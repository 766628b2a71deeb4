// One example event per event type, as core banking would publish it. The
// catalog checks each against its family's Avro schema (validateEvent) and
// renders it with the code that writes webhook bodies, so an example can
// neither break the schema nor differ from a real body.
import type { AccountStatusEvent, BankingEventType, FraudAlertEvent, TransactionEvent } from '../../../events/src/index.js'

const at = (seconds: number): Date => new Date(Date.UTC(2026, 10, 27, 10, 15, seconds))
const envelope = { tenantId: 'tenant-001', accountId: 'acc-000123' } as const

const transaction: Omit<TransactionEvent, 'eventId' | 'eventType' | 'occurredAt' | 'accountSequence'> = {
  ...envelope,
  transactionId: 'txn-7d5e2b1a',
  amount: '42.5000',
  currency: 'EUR',
  direction: 'DEBIT',
  counterparty: null,
  merchant: { name: 'Corner Grocer', mcc: '5411', city: 'Berlin', country: 'DE' },
  balanceAfter: null,
  description: 'Groceries',
  declineReason: null,
  reversedTransactionId: null
}

const account: Omit<AccountStatusEvent, 'eventId' | 'eventType' | 'occurredAt' | 'accountSequence' | 'newStatus'> = {
  ...envelope,
  accountType: 'CHECKING',
  currency: 'EUR',
  previousStatus: 'ACTIVE',
  reason: null,
  changedFields: ['status']
}

const alert: Omit<FraudAlertEvent, 'eventId' | 'eventType' | 'occurredAt' | 'accountSequence'> = {
  ...envelope,
  alertId: 'alert-5f2c',
  riskScore: 870,
  reasonCodes: ['VELOCITY', 'GEO_MISMATCH'],
  relatedTransactionId: 'txn-7d5e2b1a',
  recommendedAction: 'FREEZE_ACCOUNT',
  resolution: null
}

/** The example event of each type (the events of one account's story, in sequence order). */
export const EXAMPLE_EVENTS: { readonly [T in BankingEventType]: TransactionEvent | AccountStatusEvent | FraudAlertEvent } = {
  'account.opened': { ...account, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f1', eventType: 'account.opened', occurredAt: at(0), accountSequence: 1, previousStatus: null, newStatus: 'ACTIVE', changedFields: [] },
  'transaction.authorized': { ...transaction, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f2', eventType: 'transaction.authorized', occurredAt: at(5), accountSequence: 2, amount: '3.5282', currency: 'USD', merchant: { name: 'App Store', mcc: '5818', city: null, country: 'US' }, description: 'Card payment abroad: the amount keeps its four digits' },
  'transaction.posted': { ...transaction, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f3', eventType: 'transaction.posted', occurredAt: at(10), accountSequence: 3, balanceAfter: '-12.5000' },
  'transaction.declined': { ...transaction, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f4', eventType: 'transaction.declined', occurredAt: at(15), accountSequence: 4, transactionId: 'txn-8e6f3c2b', amount: '2500.0000', declineReason: 'INSUFFICIENT_FUNDS' },
  'transaction.reversed': { ...transaction, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f5', eventType: 'transaction.reversed', occurredAt: at(20), accountSequence: 5, transactionId: 'txn-9a7b4d3c', direction: 'CREDIT', balanceAfter: '30.0000', merchant: null, description: 'Refund', reversedTransactionId: 'txn-7d5e2b1a' },
  'fraud_alert.raised': { ...alert, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f6', eventType: 'fraud_alert.raised', occurredAt: at(25), accountSequence: 6 },
  'account.frozen': { ...account, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f7', eventType: 'account.frozen', occurredAt: at(30), accountSequence: 7, newStatus: 'FROZEN', reason: 'SUSPECTED_FRAUD' },
  'fraud_alert.resolved': { ...alert, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f8', eventType: 'fraud_alert.resolved', occurredAt: at(35), accountSequence: 8, resolution: 'FALSE_POSITIVE' },
  'account.updated': { ...account, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4f9', eventType: 'account.updated', occurredAt: at(40), accountSequence: 9, previousStatus: 'FROZEN', newStatus: 'ACTIVE', reason: 'CUSTOMER_VERIFIED' },
  'account.closed': { ...account, eventId: '0e2a6a8c-1f3b-4c5d-9e7f-a0b1c2d3e4fa', eventType: 'account.closed', occurredAt: at(45), accountSequence: 10, newStatus: 'CLOSED', reason: 'CUSTOMER_REQUEST' }
}
