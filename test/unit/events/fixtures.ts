import type { AccountStatusEvent, FraudAlertEvent, TransactionEvent } from '../../../services/events/src/index.js'

/** Valid events of each family; tests spread and override fields. */
export function transactionEvent (overrides: Partial<TransactionEvent> = {}): TransactionEvent {
  return {
    eventId: '3f1c8a9e-5b2d-4c7e-9a41-0d6e2f8b7c15',
    eventType: 'transaction.posted',
    occurredAt: new Date('2026-11-27T10:15:30.123Z'),
    tenantId: 'tenant-001',
    accountId: 'acc-000123',
    accountSequence: 42,
    transactionId: 'txn-7d5e2b1a',
    amount: '1234.5',
    currency: 'EUR',
    direction: 'DEBIT',
    counterparty: null,
    merchant: { name: 'Corner Grocer', mcc: '5411', city: 'Berlin', country: 'DE' },
    balanceAfter: '-10.0001',
    description: 'Groceries',
    declineReason: null,
    reversedTransactionId: null,
    ...overrides
  }
}

export function accountStatusEvent (overrides: Partial<AccountStatusEvent> = {}): AccountStatusEvent {
  return {
    eventId: '8b0f6f0e-2f6a-4d7b-8c1e-5a9d3e2c1b40',
    eventType: 'account.frozen',
    occurredAt: new Date('2026-11-27T10:16:00.000Z'),
    tenantId: 'tenant-001',
    accountId: 'acc-000123',
    accountSequence: 43,
    accountType: 'CHECKING',
    currency: 'EUR',
    previousStatus: 'ACTIVE',
    newStatus: 'FROZEN',
    reason: 'SUSPECTED_FRAUD',
    changedFields: ['status'],
    ...overrides
  }
}

export function fraudAlertEvent (overrides: Partial<FraudAlertEvent> = {}): FraudAlertEvent {
  return {
    eventId: 'c2d4e6f8-1a3b-4c5d-8e7f-90a1b2c3d4e5',
    eventType: 'fraud_alert.raised',
    occurredAt: new Date('2026-11-27T10:15:45.000Z'),
    tenantId: 'tenant-001',
    accountId: 'acc-000123',
    accountSequence: 44,
    alertId: 'alert-1',
    riskScore: 870,
    reasonCodes: ['VELOCITY', 'GEO_MISMATCH'],
    relatedTransactionId: 'txn-7d5e2b1a',
    recommendedAction: 'FREEZE_ACCOUNT',
    resolution: null,
    ...overrides
  }
}
