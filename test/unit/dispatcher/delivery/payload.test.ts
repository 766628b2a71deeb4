import { describe, expect, it } from 'vitest'
import { formatMoney, minorUnits, toWebhookBody } from '../../../../services/dispatcher/src/delivery/payload.js'

const envelope = {
  eventId: '0b7e1f0e-8d3c-4a53-9a7e-3f1c2d4b5a69',
  eventType: 'transaction.posted',
  occurredAt: new Date('2024-05-01T10:15:30.123Z'),
  tenantId: 'tenant-a',
  accountId: 'acc-42',
  accountSequence: 7
}

function parse (body: string): { type: unknown, timestamp: unknown, data: Record<string, unknown> } {
  return JSON.parse(body) as { type: unknown, timestamp: unknown, data: Record<string, unknown> }
}

describe('toWebhookBody', () => {
  it('is exactly {id, type, timestamp, data}, with the envelope mapped as DESIGN §5 says', () => {
    const body = toWebhookBody({
      ...envelope,
      transactionId: 'tx-1',
      amount: '1234.5000',
      currency: 'EUR',
      direction: 'CREDIT',
      balanceAfter: '-12.3400',
      counterpartyName: null,
      valueDate: new Date('2024-05-02T00:00:00.000Z')
    })
    expect(body).toBe(JSON.stringify({
      id: '0b7e1f0e-8d3c-4a53-9a7e-3f1c2d4b5a69',
      type: 'transaction.posted',
      timestamp: '2024-05-01T10:15:30.123Z',
      data: {
        accountId: 'acc-42',
        accountSequence: 7,
        transactionId: 'tx-1',
        amount: '1234.50',
        currency: 'EUR',
        direction: 'CREDIT',
        balanceAfter: '-12.34',
        counterpartyName: null,
        valueDate: '2024-05-02T00:00:00.000Z'
      }
    }))
  })

  it('carries the event id (the webhook-id) and the account sequence, so a receiver keeping only bodies can dedupe and order; leaves the tenant out', () => {
    const body = toWebhookBody({ ...envelope, status: 'FROZEN' })
    expect((JSON.parse(body) as { id: unknown }).id).toBe(envelope.eventId)
    expect(body).not.toContain('tenant-a')
    expect(Object.keys(JSON.parse(body) as object)).toEqual(['id', 'type', 'timestamp', 'data'])
    expect(parse(body).data).toEqual({ accountId: 'acc-42', accountSequence: 7, status: 'FROZEN' })
  })

  it('writes money as strings, never as JSON numbers', () => {
    const body = toWebhookBody({ ...envelope, amount: '1.0000', balanceAfter: '1000000000000000000.0100', currency: 'USD' })
    expect(body).toContain('"amount":"1.00"')
    expect(body).toContain('"balanceAfter":"1000000000000000000.01"')
    const { data } = parse(body)
    expect(typeof data.amount).toBe('string')
    expect(typeof data.balanceAfter).toBe('string')
  })

  it('keeps digits a float would lose', () => {
    const { data } = parse(toWebhookBody({ ...envelope, amount: '90071992547409931.2300', currency: 'EUR' }))
    expect(data.amount).toBe('90071992547409931.23')
  })

  it('uses the event currency for each money field', () => {
    const { data } = parse(toWebhookBody({ ...envelope, amount: '1500.0000', balanceAfter: '250000.0000', currency: 'JPY' }))
    expect(data).toMatchObject({ amount: '1500', balanceAfter: '250000' })
  })

  it('treats a missing or null currency as 2 minor units', () => {
    expect(parse(toWebhookBody({ ...envelope, amount: '5.0000' })).data.amount).toBe('5.00')
    expect(parse(toWebhookBody({ ...envelope, amount: '5.0000', currency: null })).data.amount).toBe('5.00')
  })

  it('keeps null and absent optional money fields as they are', () => {
    const { data } = parse(toWebhookBody({ ...envelope, amount: null, balanceAfter: undefined, currency: 'EUR' }))
    expect(data.amount).toBeNull()
    expect('balanceAfter' in data).toBe(false)
  })

  it('refuses a numeric amount instead of sending a float', () => {
    expect(() => toWebhookBody({ ...envelope, amount: 12.5, currency: 'EUR' })).toThrow(TypeError)
    expect(() => toWebhookBody({ ...envelope, balanceAfter: 12, currency: 'EUR' })).toThrow(/decimal string/)
    expect(() => toWebhookBody({ ...envelope, amount: '12,50', currency: 'EUR' })).toThrow(TypeError)
  })

  it('turns dates anywhere inside data into ISO-8601 strings', () => {
    const { data } = parse(toWebhookBody({
      ...envelope,
      detectedAt: new Date('2024-05-01T10:15:31.000Z'),
      rule: { since: new Date('2024-01-01T00:00:00.000Z'), tags: ['velocity'] },
      history: [new Date('2023-12-31T23:59:59.999Z')]
    }))
    expect(data).toMatchObject({
      detectedAt: '2024-05-01T10:15:31.000Z',
      rule: { since: '2024-01-01T00:00:00.000Z', tags: ['velocity'] },
      history: ['2023-12-31T23:59:59.999Z']
    })
  })

  it('writes an accountSequence beyond 2^53 (a Java long) as the exact JSON number', () => {
    const body = toWebhookBody({ ...envelope, accountSequence: 2n ** 53n + 1n })
    expect(body).toContain('"accountSequence":9007199254740993')
    // What a JavaScript receiver does to read it exactly.
    const exact = JSON.parse(body, (key, value, context?: { source?: string }) => key === 'accountSequence' ? context?.source : value) as { data: { accountSequence: string } }
    expect(exact.data.accountSequence).toBe('9007199254740993')
  })

  it('keeps type-specific fields in their order after accountId and accountSequence', () => {
    const { data } = parse(toWebhookBody({ ...envelope, zeta: 1, alpha: 'a', riskScore: 87 }))
    expect(Object.keys(data)).toEqual(['accountId', 'accountSequence', 'zeta', 'alpha', 'riskScore'])
  })

  it('writes bigints as exact JSON numbers and refuses values JSON cannot carry', () => {
    expect(toWebhookBody({ ...envelope, counter: 2n ** 70n })).toContain('"counter":1180591620717411303424')
    expect(() => toWebhookBody({ ...envelope, score: Number.NaN })).toThrow(/data\.score/)
    expect(() => toWebhookBody({ ...envelope, nested: { x: Infinity } })).toThrow(/data\.nested\.x/)
    expect(() => toWebhookBody({ ...envelope, fn: () => 1 })).toThrow(TypeError)
  })

  it('names the place of a value JSON cannot carry inside arrays too', () => {
    expect(() => toWebhookBody({ ...envelope, scores: [1, 2, Number.POSITIVE_INFINITY] })).toThrow(/data\.scores\[2\] is Infinity/)
    expect(() => toWebhookBody({ ...envelope, rules: [{ limits: [{ max: Number.NaN }] }] })).toThrow(/data\.rules\[0\]\.limits\[0\]\.max/)
  })

  it('keeps a map key "__proto__" as data, never as a prototype', () => {
    const labels: Record<string, unknown> = { a: '1' }
    Object.defineProperty(labels, '__proto__', { value: { polluted: true }, enumerable: true })
    const body = toWebhookBody({ ...envelope, labels })
    expect(body).toContain('"labels":{"a":"1","__proto__":{"polluted":true}}')
    const { data } = parse(body)
    expect((data.labels as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('fails on an invalid occurredAt rather than sending a wrong timestamp', () => {
    expect(() => toWebhookBody({ ...envelope, occurredAt: new Date(Number.NaN) })).toThrow(RangeError)
  })
})

describe('minorUnits', () => {
  it.each([
    ['EUR', 2], ['USD', 2], ['GBP', 2], ['CHF', 2], ['eur', 2],
    ['JPY', 0], ['KRW', 0], ['ISK', 0], ['CLP', 0], ['VND', 0], ['XOF', 0],
    ['BHD', 3], ['KWD', 3], ['JOD', 3], ['TND', 3],
    ['CLF', 4], ['UYW', 4],
    ['XYZ', 2], ['', 2]
  ])('%s → %i', (currency, expected) => {
    expect(minorUnits(currency)).toBe(expected)
  })

  it('is 2 without a currency', () => {
    expect(minorUnits(undefined)).toBe(2)
    expect(minorUnits(null)).toBe(2)
  })
})

describe('formatMoney', () => {
  it.each([
    // two minor units: trailing zeros trimmed down to 2, never past a non-zero digit
    ['1234.5000', 'EUR', '1234.50'],
    ['1234.0000', 'EUR', '1234.00'],
    ['1234.5600', 'USD', '1234.56'],
    ['1234.5670', 'GBP', '1234.567'],
    ['1234.5678', 'GBP', '1234.5678'],
    ['0.0100', 'EUR', '0.01'],
    ['0.0001', 'EUR', '0.0001'],
    ['0.0000', 'EUR', '0.00'],
    ['-12.3400', 'EUR', '-12.34'],
    ['-12.3450', 'EUR', '-12.345'],
    ['-0.5000', 'USD', '-0.50'],
    ['-0.0000', 'EUR', '0.00'],
    ['99999999999999999999.9900', 'USD', '99999999999999999999.99'],
    // zero minor units: no decimal point, unless non-zero digits would be lost
    ['1235.0000', 'JPY', '1235'],
    ['1234.5000', 'JPY', '1234.5'],
    ['1234.5600', 'KRW', '1234.56'],
    ['-500.0000', 'KRW', '-500'],
    ['0.0000', 'JPY', '0'],
    ['-0.0000', 'JPY', '0'],
    // three and four minor units
    ['1.5000', 'BHD', '1.500'],
    ['1.5670', 'KWD', '1.567'],
    ['1.5678', 'KWD', '1.5678'],
    ['1.5000', 'CLF', '1.5000'],
    ['-7.0000', 'UYW', '-7.0000'],
    // unknown currency: 4 digits minus trailing zeros, down to 2
    ['1234.5000', 'XYZ', '1234.50'],
    ['1234.5600', 'XYZ', '1234.56'],
    ['1234.5670', 'XYZ', '1234.567'],
    ['1234.5678', 'XYZ', '1234.5678'],
    ['3.0000', undefined, '3.00'],
    // fewer fraction digits than the currency needs are padded, never rounded
    ['12', 'EUR', '12.00'],
    ['12.5', 'EUR', '12.50'],
    ['12', 'JPY', '12'],
    ['12.5', 'BHD', '12.500'],
    // more than 4 fraction digits are kept as they are
    ['1.234500', 'EUR', '1.2345'],
    // leading zeros are dropped, one integer digit is kept
    ['007.5000', 'EUR', '7.50'],
    ['000.5000', 'EUR', '0.50']
  ])('%s %s → %s', (value, currency, expected) => {
    expect(formatMoney(value, currency)).toBe(expected)
  })

  it.each(['', '.5', '12.', '1,5', '+1.00', '1e3', ' 1.00', '1.00 ', 'NaN', '--1.00', '0x10', '１.00'])('refuses %j', (value) => {
    expect(() => formatMoney(value, 'EUR')).toThrow(TypeError)
  })
})
