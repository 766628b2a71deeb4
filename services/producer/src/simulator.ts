/**
 * The core-banking simulator's event generator: pure and deterministic for
 * a seed and a sequence of clock readings. No I/O; the CLI
 * (cli/simulate.ts) publishes what it produces.
 *
 * Per account the story is plausible: `account.opened` first (sequence 1);
 * card payments and transfers authorized then posted, some declined
 * (insufficient funds, frozen account, …), the occasional reversal of an
 * earlier posted one, with a running balance; details updated, frozen and
 * unfrozen, rarely closed (nothing follows a close; a new account takes its
 * place); fraud alerts raised and later resolved. accountSequence counts
 * every event of the account, across families.
 */
import {
  formatDecimal, type AccountStatus, type AccountStatusEvent, type AccountType, type BankingEvent, type Counterparty,
  type FamilyName, type FraudAlertEvent, type Merchant, type RecommendedAction, type TransactionDirection, type TransactionEvent
} from '../../events/src/index.js'
import { createRandom, type Random } from './prng.js'

export type EventMix = Record<FamilyName, number>

export const DEFAULT_MIX: Readonly<EventMix> = Object.freeze({ transactions: 80, accounts: 10, fraud: 10 })

export interface SimulatorOptions {
  /** Number of tenants; accounts are dealt to them round-robin. */
  tenants: number
  /** Number of live accounts; a closed account is replaced by a new one. */
  accounts: number
  seed: number
  /** Relative weights of the families (account.opened comes on top). */
  mix?: EventMix
}

export interface SimulatorStats {
  total: number
  byFamily: Record<FamilyName, number>
  byType: Record<string, number>
  accountsOpened: number
  accountsClosed: number
}

export interface Simulator {
  /** The next event, stamped with `now`. */
  next: (now: Date) => BankingEvent
  readonly stats: SimulatorStats
}

const SCALE = 4
const CURRENCIES = [
  { code: 'EUR', digits: 2, maxMinor: 500_000, weight: 6 },
  { code: 'USD', digits: 2, maxMinor: 500_000, weight: 3 },
  { code: 'GBP', digits: 2, maxMinor: 400_000, weight: 2 },
  { code: 'CHF', digits: 2, maxMinor: 500_000, weight: 1 },
  { code: 'JPY', digits: 0, maxMinor: 800_000, weight: 1 },
  { code: 'BHD', digits: 3, maxMinor: 2_000_000, weight: 1 }
] as const
type Currency = typeof CURRENCIES[number]

const ACCOUNT_TYPES: readonly AccountType[] = ['CHECKING', 'CHECKING', 'CHECKING', 'SAVINGS', 'BUSINESS', 'CREDIT_CARD', 'PREPAID']
const MERCHANTS: readonly Merchant[] = [
  { name: 'Corner Grocer', mcc: '5411', city: 'Berlin', country: 'DE' },
  { name: 'Metro Coffee', mcc: '5814', city: 'Amsterdam', country: 'NL' },
  { name: 'Rail Europe', mcc: '4112', city: 'Paris', country: 'FR' },
  { name: 'Fuel Stop', mcc: '5541', city: 'Munich', country: 'DE' },
  { name: 'Book Nook', mcc: '5942', city: 'London', country: 'GB' },
  { name: 'StreamFlix', mcc: '4899', city: null, country: 'US' },
  { name: 'Pharmacy Plus', mcc: '5912', city: 'Vienna', country: 'AT' },
  { name: 'Sky Air', mcc: '4511', city: 'Dublin', country: 'IE' }
]
const PEOPLE = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Edsger Dijkstra', 'Barbara Liskov', 'Acme GmbH', 'Landlord Ltd']
const BICS = ['DEUTDEFFXXX', 'COBADEFFXXX', 'BNPAFRPPXXX', 'INGBNL2A', 'BARCGB22', 'UBSWCHZH80A']
const TRANSFER_TEXTS = ['Rent', 'Salary', 'Invoice 2026-114', 'Split dinner', 'Savings', 'Refund']
const DECLINE_REASONS = ['SUSPECTED_FRAUD', 'CARD_EXPIRED', 'LIMIT_EXCEEDED', 'INVALID_PIN']
const FREEZE_REASONS = ['SUSPECTED_FRAUD', 'COMPLIANCE_REVIEW', 'CUSTOMER_REQUEST']
const DETAIL_CHANGES: readonly string[][] = [['nickname'], ['overdraftLimit'], ['address'], ['nickname', 'address'], ['email']]
const FRAUD_REASONS = ['VELOCITY', 'GEO_MISMATCH', 'NEW_DEVICE', 'HIGH_AMOUNT', 'MERCHANT_RISK', 'ACCOUNT_TAKEOVER_PATTERN']

interface Pending {
  transactionId: string
  amount: bigint
  direction: TransactionDirection
  merchant: Merchant | null
  counterparty: Counterparty | null
  description: string
}

interface Posted {
  transactionId: string
  amount: bigint
  direction: TransactionDirection
}

interface OpenAlert {
  alertId: string
  riskScore: number
  reasonCodes: string[]
  relatedTransactionId: string | null
  recommendedAction: RecommendedAction
}

interface Account {
  accountId: string
  tenantId: string
  accountType: AccountType
  currency: Currency
  opened: boolean
  status: AccountStatus
  sequence: number
  /** Booked balance, unscaled at SCALE. */
  balance: bigint
  pending: Pending[]
  posted: Posted[]
  alerts: OpenAlert[]
  lastTransactionId: string | null
}

const MAX_REMEMBERED = 20

export function createSimulator (options: SimulatorOptions): Simulator {
  for (const [name, value] of [['tenants', options.tenants], ['accounts', options.accounts]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  }
  const mix = options.mix ?? DEFAULT_MIX
  const weights = (Object.keys(DEFAULT_MIX) as FamilyName[]).map((family) => [family, mix[family]] as const)
  const totalWeight = weights.reduce((sum, [, weight]) => sum + weight, 0)
  if (weights.some(([, weight]) => !(weight >= 0)) || !(totalWeight > 0)) {
    throw new RangeError('mix weights must be non-negative with a positive sum')
  }
  const random = createRandom(options.seed)
  const tenantWidth = Math.max(3, String(options.tenants).length)
  let accountCounter = 0
  const stats: SimulatorStats = {
    total: 0,
    byFamily: { transactions: 0, accounts: 0, fraud: 0 },
    byType: {},
    accountsOpened: 0,
    accountsClosed: 0
  }

  const newAccount = (): Account => {
    accountCounter++
    return {
      accountId: `acc-${String(accountCounter).padStart(6, '0')}`,
      tenantId: `tenant-${String(((accountCounter - 1) % options.tenants) + 1).padStart(tenantWidth, '0')}`,
      accountType: random.pick(ACCOUNT_TYPES),
      currency: pickWeighted(random, CURRENCIES.map((currency) => [currency, currency.weight] as const)),
      opened: false,
      status: 'PENDING',
      sequence: 0,
      balance: 0n,
      pending: [],
      posted: [],
      alerts: [],
      lastTransactionId: null
    }
  }
  const pool: Account[] = Array.from({ length: options.accounts }, newAccount)

  function envelope<T extends BankingEvent['eventType']> (account: Account, eventType: T, now: Date): {
    eventId: string, eventType: T, occurredAt: Date, tenantId: string, accountId: string, accountSequence: number
  } {
    account.sequence++
    return {
      eventId: random.uuid(),
      eventType,
      occurredAt: new Date(now.getTime()),
      tenantId: account.tenantId,
      accountId: account.accountId,
      accountSequence: account.sequence
    }
  }

  const money = (unscaled: bigint): string => formatDecimal(unscaled, SCALE)

  function randomAmount (currency: Currency): bigint {
    // Log-uniform in minor units: many small payments, a few large ones.
    const minor = Math.max(1, Math.floor(Math.exp(random.next() * Math.log(currency.maxMinor))))
    return BigInt(minor) * 10n ** BigInt(SCALE - currency.digits)
  }

  function accountEvent (account: Account, eventType: AccountStatusEvent['eventType'], now: Date, change: {
    newStatus: AccountStatus, reason?: string | null, changedFields?: string[]
  }): AccountStatusEvent {
    const previousStatus = account.opened ? account.status : null
    account.opened = true
    account.status = change.newStatus
    return {
      ...envelope(account, eventType, now),
      accountType: account.accountType,
      currency: account.currency.code,
      previousStatus,
      newStatus: change.newStatus,
      reason: change.reason ?? null,
      changedFields: change.changedFields ?? []
    }
  }

  function statusChange (account: Account, now: Date): AccountStatusEvent {
    const roll = random.next()
    if (account.status === 'FROZEN') {
      if (roll < 0.05) return accountEvent(account, 'account.closed', now, { newStatus: 'CLOSED', reason: 'COMPLIANCE_REVIEW', changedFields: ['status'] })
      return accountEvent(account, 'account.updated', now, { newStatus: 'ACTIVE', reason: 'REVIEW_CLEARED', changedFields: ['status'] })
    }
    if (roll < 0.02) return accountEvent(account, 'account.closed', now, { newStatus: 'CLOSED', reason: 'CUSTOMER_REQUEST', changedFields: ['status'] })
    if (roll < 0.25) return accountEvent(account, 'account.frozen', now, { newStatus: 'FROZEN', reason: random.pick(FREEZE_REASONS), changedFields: ['status'] })
    return accountEvent(account, 'account.updated', now, { newStatus: 'ACTIVE', changedFields: [...random.pick(DETAIL_CHANGES)] })
  }

  function transactionEvent (account: Account, eventType: TransactionEvent['eventType'], now: Date, details: {
    transactionId: string, amount: bigint, direction: TransactionDirection, merchant?: Merchant | null,
    counterparty?: Counterparty | null, description?: string | null, declineReason?: string | null,
    reversedTransactionId?: string | null, booked?: boolean
  }): TransactionEvent {
    account.lastTransactionId = details.transactionId
    return {
      ...envelope(account, eventType, now),
      transactionId: details.transactionId,
      amount: money(details.amount),
      currency: account.currency.code,
      direction: details.direction,
      counterparty: details.counterparty ?? null,
      merchant: details.merchant ?? null,
      balanceAfter: details.booked === true ? money(account.balance) : null,
      description: details.description ?? null,
      declineReason: details.declineReason ?? null,
      reversedTransactionId: details.reversedTransactionId ?? null
    }
  }

  function book (account: Account, amount: bigint, direction: TransactionDirection): void {
    account.balance += direction === 'CREDIT' ? amount : -amount
  }

  function transaction (account: Account, now: Date): TransactionEvent {
    const roll = random.next()
    if (account.status === 'ACTIVE' && account.pending.length > 0 && roll < 0.45) {
      const posting = account.pending.shift() as Pending
      book(account, posting.amount, posting.direction)
      remember(account.posted, { transactionId: posting.transactionId, amount: posting.amount, direction: posting.direction })
      return transactionEvent(account, 'transaction.posted', now, { ...posting, booked: true })
    }
    if (account.status === 'ACTIVE' && account.posted.length > 0 && roll < 0.48) {
      const original = account.posted.splice(random.int(account.posted.length), 1)[0] as Posted
      const direction: TransactionDirection = original.direction === 'CREDIT' ? 'DEBIT' : 'CREDIT'
      book(account, original.amount, direction)
      return transactionEvent(account, 'transaction.reversed', now, {
        transactionId: random.uuid(), amount: original.amount, direction, reversedTransactionId: original.transactionId,
        description: 'Reversal', booked: true
      })
    }
    const direction: TransactionDirection = random.chance(account.balance <= 0n ? 0.7 : 0.25) ? 'CREDIT' : 'DEBIT'
    const amount = randomAmount(account.currency)
    const card = direction === 'DEBIT' && random.chance(0.7)
    const attempt = {
      transactionId: random.uuid(),
      amount,
      direction,
      merchant: card ? random.pick(MERCHANTS) : null,
      counterparty: card ? null : counterparty(random),
      description: card ? 'Card payment' : random.pick(TRANSFER_TEXTS)
    }
    const reserved = account.pending.reduce((sum, item) => sum + (item.direction === 'DEBIT' ? item.amount : 0n), 0n)
    let declineReason: string | undefined
    if (account.status === 'FROZEN') declineReason = 'ACCOUNT_FROZEN'
    else if (direction === 'DEBIT' && account.balance - reserved < amount) declineReason = 'INSUFFICIENT_FUNDS'
    else if (random.chance(0.03)) declineReason = random.pick(DECLINE_REASONS)
    if (declineReason !== undefined) return transactionEvent(account, 'transaction.declined', now, { ...attempt, declineReason })
    remember(account.pending, attempt)
    return transactionEvent(account, 'transaction.authorized', now, attempt)
  }

  function fraud (account: Account, now: Date): FraudAlertEvent {
    if (account.alerts.length > 0 && random.chance(0.5)) {
      const alert = account.alerts.shift() as OpenAlert
      return {
        ...envelope(account, 'fraud_alert.resolved', now),
        ...alert,
        resolution: random.chance(0.25) ? 'CONFIRMED_FRAUD' : 'FALSE_POSITIVE'
      }
    }
    const riskScore = random.int(1001)
    const reasons = new Set<string>()
    const wanted = 1 + random.int(3)
    while (reasons.size < wanted) reasons.add(random.pick(FRAUD_REASONS))
    const alert: OpenAlert = {
      alertId: `alert-${random.uuid()}`,
      riskScore,
      reasonCodes: [...reasons],
      relatedTransactionId: account.lastTransactionId !== null && random.chance(0.7) ? account.lastTransactionId : null,
      recommendedAction: actionFor(riskScore)
    }
    remember(account.alerts, alert)
    return { ...envelope(account, 'fraud_alert.raised', now), ...alert, resolution: null }
  }

  function count (event: BankingEvent, family: FamilyName): BankingEvent {
    stats.total++
    stats.byFamily[family]++
    stats.byType[event.eventType] = (stats.byType[event.eventType] ?? 0) + 1
    return event
  }

  return {
    stats,
    next (now) {
      const family = pickWeighted(random, weights)
      const slot = random.int(pool.length)
      const account = pool[slot] as Account
      if (!account.opened) {
        stats.accountsOpened++
        return count(accountEvent(account, 'account.opened', now, { newStatus: 'ACTIVE' }), 'accounts')
      }
      if (family === 'accounts') {
        const event = statusChange(account, now)
        if (event.newStatus === 'CLOSED') {
          stats.accountsClosed++
          pool[slot] = newAccount()
        }
        return count(event, 'accounts')
      }
      if (family === 'fraud') return count(fraud(account, now), 'fraud')
      return count(transaction(account, now), 'transactions')
    }
  }
}

function pickWeighted<T> (random: Random, entries: ReadonlyArray<readonly [T, number]>): T {
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0)
  let roll = random.next() * total
  for (const [value, weight] of entries) {
    if (roll < weight) return value
    roll -= weight
  }
  return (entries.findLast(([, weight]) => weight > 0) as readonly [T, number])[0]
}

function remember<T> (list: T[], item: T): void {
  list.push(item)
  if (list.length > MAX_REMEMBERED) list.shift()
}

function actionFor (riskScore: number): RecommendedAction {
  if (riskScore < 300) return 'NONE'
  if (riskScore < 600) return 'REVIEW'
  if (riskScore < 800) return 'STEP_UP_AUTH'
  if (riskScore < 900) return 'BLOCK_CARD'
  return 'FREEZE_ACCOUNT'
}

function counterparty (random: Random): Counterparty {
  return { name: random.pick(PEOPLE), iban: germanIban(random), bic: random.pick(BICS) }
}

/** A German IBAN with valid ISO 7064 mod-97 check digits. */
export function germanIban (random: Random): string {
  let bban = ''
  for (let i = 0; i < 18; i++) bban += String(random.int(10))
  // Move "DE00" to the end, letters as numbers (D=13, E=14), then 98 - n mod 97.
  const check = 98n - (BigInt(`${bban}131400`) % 97n)
  return `DE${check.toString().padStart(2, '0')}${bban}`
}
