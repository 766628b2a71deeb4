/**
 * What a chaos run produces and what each subscription must receive, as pure
 * functions of an event's index: nothing per event is kept in memory but a
 * few typed arrays, so a run of a million events fits in a test process.
 *
 * Event i belongs to account i mod A, is that account's event number
 * ⌊i / A⌋ + 1 (its accountSequence), and has transaction type ⌊i / A⌋ mod 4;
 * its eventId carries the run id and i, so a receiver knows which event a
 * webhook-id is without a lookup table.
 */
import type { TransactionEvent } from '../../services/events/src/index.js'

export const TRANSACTION_TYPES = ['transaction.authorized', 'transaction.posted', 'transaction.declined', 'transaction.reversed'] as const
export const TENANT = 'tenant-000'

/** One of the three subscriptions, its filter as the dispatcher sees it and as the oracle judges it. */
export interface ChaosSubscription {
  id: string
  eventTypes: string[]
  /** Whether an event of TRANSACTION_TYPES[typeIndex] matches. */
  matches: (typeIndex: number) => boolean
}

/**
 * sub-all takes everything; sub-outage (every transaction) has its endpoint
 * down for a while; sub-flaky (authorized and posted: half the events)
 * answers 10 % of requests with HTTP 500.
 */
export const SUBSCRIPTIONS: readonly ChaosSubscription[] = [
  { id: 'sub-all', eventTypes: ['*'], matches: () => true },
  { id: 'sub-outage', eventTypes: ['transaction.*'], matches: () => true },
  { id: 'sub-flaky', eventTypes: ['transaction.authorized', 'transaction.posted'], matches: (t) => t === 0 || t === 1 }
]

export interface EventPlan {
  /** 8 hex digits: the first group of every eventId of this run. */
  runId: string
  events: number
  accounts: number
}

export function accountOf (plan: EventPlan, i: number): number {
  return i % plan.accounts
}

export function sequenceOf (plan: EventPlan, i: number): number {
  return Math.floor(i / plan.accounts) + 1
}

export function typeIndexOf (plan: EventPlan, i: number): number {
  return Math.floor(i / plan.accounts) % TRANSACTION_TYPES.length
}

export function accountId (account: number): string {
  return `acc-${String(account).padStart(6, '0')}`
}

/** `<runId>-0000-4000-8000-<i as 12 hex digits>`: a well-formed UUID that names its event. */
export function eventIdOf (plan: EventPlan, i: number): string {
  return `${plan.runId}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
}

/** The index of the event a webhook-id names, or undefined when it is not one of this run's. */
export function indexOfEventId (plan: EventPlan, id: string): number | undefined {
  if (id.length !== 36 || !id.startsWith(`${plan.runId}-0000-4000-8000-`)) return undefined
  const i = Number.parseInt(id.slice(24), 16)
  return Number.isSafeInteger(i) && i >= 0 && i < plan.events ? i : undefined
}

/** The account index of `acc-000123`, or undefined. */
export function accountIndexOf (id: unknown): number | undefined {
  if (typeof id !== 'string' || !/^acc-\d{6}$/.test(id)) return undefined
  return Number(id.slice(4))
}

/** How many events `subscription` must receive. */
export function expectedFor (plan: EventPlan, subscription: ChaosSubscription): number {
  const rounds = Math.ceil(plan.events / plan.accounts)
  let total = 0
  for (let round = 0; round < rounds; round++) {
    const inRound = Math.min(plan.accounts, plan.events - round * plan.accounts)
    if (subscription.matches(round % TRANSACTION_TYPES.length)) total += inRound
  }
  return total
}

/** Event i, ready for the Avro encoder. */
export function chaosEvent (plan: EventPlan, i: number, now: Date): TransactionEvent {
  const eventType = TRANSACTION_TYPES[typeIndexOf(plan, i)] as TransactionEvent['eventType']
  return {
    eventId: eventIdOf(plan, i),
    eventType,
    occurredAt: now,
    tenantId: TENANT,
    accountId: accountId(accountOf(plan, i)),
    accountSequence: sequenceOf(plan, i),
    transactionId: `txn-${i}`,
    amount: `${(i % 1000) + 1}.25`,
    currency: 'EUR',
    direction: i % 2 === 0 ? 'DEBIT' : 'CREDIT',
    counterparty: null,
    merchant: null,
    balanceAfter: null,
    description: null,
    declineReason: eventType === 'transaction.declined' ? 'INSUFFICIENT_FUNDS' : null,
    reversedTransactionId: eventType === 'transaction.reversed' ? `txn-${i - plan.accounts}` : null
  }
}
