import { describe, expect, it } from 'vitest'
import { findEventIssues, familyOfEventType, parseDecimal, type BankingEvent, type TransactionEvent } from '../../../services/events/src/index.js'
import { createSimulator, germanIban, type SimulatorOptions } from '../../../services/producer/src/simulator.js'
import { createRandom } from '../../../services/producer/src/prng.js'

const START = Date.parse('2026-11-27T09:00:00Z')

function generate (count: number, options: Partial<SimulatorOptions> = {}): BankingEvent[] {
  const simulator = createSimulator({ tenants: 4, accounts: 30, seed: 7, ...options })
  return Array.from({ length: count }, (_, i) => simulator.next(new Date(START + i * 10)))
}

function byAccount (events: BankingEvent[]): Map<string, BankingEvent[]> {
  const accounts = new Map<string, BankingEvent[]>()
  for (const event of events) {
    const list = accounts.get(event.accountId) ?? []
    list.push(event)
    accounts.set(event.accountId, list)
  }
  return accounts
}

const MONEY = { precision: 19, scale: 4 }
const EVENTS = generate(20_000)
const ACCOUNTS = byAccount(EVENTS)

describe('simulator', () => {
  it('produces only valid events', () => {
    const invalid = EVENTS
      .map((event) => ({ event, family: familyOfEventType(event.eventType) }))
      .filter(({ event, family }) => family === undefined || findEventIssues(family, event).length > 0)
    expect(invalid).toEqual([])
  })

  it('opens every account first, with sequence 1', () => {
    for (const [accountId, events] of ACCOUNTS) {
      expect(events[0]?.eventType, accountId).toBe('account.opened')
      expect(events[0]?.accountSequence, accountId).toBe(1)
      expect(events.filter((event) => event.eventType === 'account.opened')).toHaveLength(1)
    }
  })

  it('numbers each account\'s events 1, 2, 3, … across families', () => {
    for (const [accountId, events] of ACCOUNTS) {
      expect(events.map((event) => event.accountSequence), accountId).toEqual(events.map((_, i) => i + 1))
      const families = new Set(events.map((event) => familyOfEventType(event.eventType)))
      if (events.length > 40) expect(families.size, accountId).toBe(3)
    }
  })

  it('sends nothing after account.closed and replaces closed accounts', () => {
    let closed = 0
    for (const [accountId, events] of ACCOUNTS) {
      const at = events.findIndex((event) => event.eventType === 'account.closed')
      if (at >= 0) {
        closed++
        expect(at, accountId).toBe(events.length - 1)
      }
    }
    expect(closed).toBeGreaterThan(0)
    expect(ACCOUNTS.size).toBe(30 + closed)
  })

  it('gives each account one tenant, tenants disjoint accounts', () => {
    const owners = new Map<string, Set<string>>()
    for (const event of EVENTS) owners.set(event.accountId, (owners.get(event.accountId) ?? new Set()).add(event.tenantId))
    expect([...owners.values()].filter((tenants) => tenants.size !== 1)).toEqual([])
    expect([...owners.keys()].filter((account) => !/^acc-\d{6}$/.test(account))).toEqual([])
    const tenants = new Set([...owners.values()].flatMap((set) => [...set]))
    expect([...tenants].sort()).toEqual(['tenant-001', 'tenant-002', 'tenant-003', 'tenant-004'])
  })

  it('is deterministic for a seed and differs between seeds', () => {
    expect(generate(500)).toEqual(generate(500))
    expect(generate(500, { seed: 8 })).not.toEqual(generate(500))
    expect(new Set(EVENTS.map((event) => event.eventId)).size).toBe(EVENTS.length)
  })

  it('roughly honours the mix', () => {
    const share = (family: string): number => EVENTS.filter((event) => familyOfEventType(event.eventType) === family).length / EVENTS.length
    expect(share('transactions')).toBeGreaterThan(0.77)
    expect(share('transactions')).toBeLessThan(0.83)
    expect(share('accounts')).toBeGreaterThan(0.08)
    expect(share('accounts')).toBeLessThan(0.13)
    expect(share('fraud')).toBeGreaterThan(0.08)
    expect(share('fraud')).toBeLessThan(0.12)
    const onlyFraud = generate(2000, { mix: { transactions: 0, accounts: 0, fraud: 1 } })
    expect(onlyFraud.filter((event) => event.eventType !== 'account.opened').every((event) => event.eventType.startsWith('fraud_alert.'))).toBe(true)
  })

  it('writes amounts as exact decimals in the currency\'s minor unit', () => {
    const transactions = EVENTS.filter((event): event is TransactionEvent => event.eventType.startsWith('transaction.'))
    const wrong = transactions.filter((event) => {
      const digits = { JPY: 0, BHD: 3 }[event.currency as 'JPY' | 'BHD'] ?? 2
      // Four fraction digits, positive, and beyond the currency's minor unit only zeros.
      return !/^\d+\.\d{4}$/.test(event.amount) ||
        parseDecimal(event.amount, MONEY) <= 0n ||
        !/^0*$/.test((event.amount.split('.')[1] ?? '').slice(digits)) ||
        (event.balanceAfter !== null && event.balanceAfter !== undefined && !/^-?\d+\.\d{4}$/.test(event.balanceAfter))
    })
    expect(wrong).toEqual([])
    expect(transactions.some((event) => event.currency === 'JPY' && !event.amount.endsWith('.0000'))).toBe(false)
    expect(new Set(transactions.map((event) => event.currency))).toEqual(new Set(['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'BHD']))
  })

  it('tells a coherent story per account: authorized → posted, reversals of posted, a running balance', () => {
    const types = new Set(EVENTS.map((event) => event.eventType))
    expect([...types].sort()).toEqual([
      'account.closed', 'account.frozen', 'account.opened', 'account.updated',
      'fraud_alert.raised', 'fraud_alert.resolved',
      'transaction.authorized', 'transaction.declined', 'transaction.posted', 'transaction.reversed'
    ])
    for (const [accountId, events] of ACCOUNTS) {
      const authorized = new Set<string>()
      const posted = new Set<string>()
      const raised = new Set<string>()
      let balance = 0n
      let status = 'NONE'
      for (const event of events) {
        switch (event.eventType) {
          case 'transaction.authorized':
            expect(status).toBe('ACTIVE')
            authorized.add(event.transactionId)
            break
          case 'transaction.posted':
          case 'transaction.reversed': {
            if (event.eventType === 'transaction.posted') {
              expect(authorized.has(event.transactionId), `${accountId} posts an unauthorized transaction`).toBe(true)
              posted.add(event.transactionId)
            } else {
              expect(posted.has(event.reversedTransactionId ?? ''), `${accountId} reverses an unposted transaction`).toBe(true)
              posted.delete(event.reversedTransactionId ?? '')
            }
            const amount = parseDecimal(event.amount, MONEY)
            balance += event.direction === 'CREDIT' ? amount : -amount
            expect(event.balanceAfter, accountId).toBe(formatBalance(balance))
            break
          }
          case 'transaction.declined':
            expect(event.declineReason).toBeTruthy()
            if (status === 'FROZEN') expect(event.declineReason).toBe('ACCOUNT_FROZEN')
            break
          case 'fraud_alert.raised':
            raised.add(event.alertId)
            break
          case 'fraud_alert.resolved':
            expect(raised.has(event.alertId), `${accountId} resolves an alert never raised`).toBe(true)
            raised.delete(event.alertId)
            break
          default:
            if (event.eventType !== 'account.opened') expect(event.previousStatus).toBe(status)
            status = event.newStatus
        }
      }
    }
  })

  it('unfreezes frozen accounts with account.updated back to ACTIVE', () => {
    const unfrozen = EVENTS.filter((event) => event.eventType === 'account.updated' && event.previousStatus === 'FROZEN' && event.newStatus === 'ACTIVE')
    expect(unfrozen.length).toBeGreaterThan(0)
  })

  it('refuses bad options', () => {
    expect(() => createSimulator({ tenants: 0, accounts: 1, seed: 1 })).toThrow(/tenants/)
    expect(() => createSimulator({ tenants: 1, accounts: 1.5, seed: 1 })).toThrow(/accounts/)
    expect(() => createSimulator({ tenants: 1, accounts: 1, seed: 1, mix: { transactions: 0, accounts: 0, fraud: 0 } })).toThrow(/mix/)
  })
})

function formatBalance (unscaled: bigint): string {
  const negative = unscaled < 0n
  const digits = (negative ? -unscaled : unscaled).toString().padStart(5, '0')
  return `${negative ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`
}

describe('prng', () => {
  it('repeats for a seed and stays in range', () => {
    const a = createRandom(42)
    const b = createRandom(42)
    const values = Array.from({ length: 1000 }, () => a.next())
    expect(values).toEqual(Array.from({ length: 1000 }, () => b.next()))
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true)
    expect(new Set(values).size).toBeGreaterThan(990)
  })

  it('makes version-4 UUIDs', () => {
    const random = createRandom(1)
    for (let i = 0; i < 100; i++) expect(random.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('makes IBANs with valid check digits', () => {
    const random = createRandom(3)
    for (let i = 0; i < 100; i++) {
      const iban = germanIban(random)
      expect(iban).toMatch(/^DE\d{20}$/)
      const rearranged = `${iban.slice(4)}1314${iban.slice(2, 4)}`
      expect(BigInt(rearranged) % 97n).toBe(1n)
    }
  })
})
