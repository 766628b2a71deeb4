// The webhook body (DESIGN §5): {"id", "type", "timestamp", "data"}. Money
// stays a decimal string end to end; nothing here ever turns an amount into a
// number. `id` repeats the webhook-id header and `data` holds accountId and
// accountSequence, so a receiver that stores only bodies can still dedupe
// and order (issue 18).

declare global {
  // In Node since 21 (TC39 "JSON.parse source text access"); TypeScript's
  // ES2023 lib does not declare it.
  interface JSON { rawJSON: (text: string) => unknown }
}

/**
 * The envelope every decoded event carries. Type-specific fields ride along
 * as further properties; they are typed loosely on purpose so this module does
 * not depend on the events module's generated types.
 */
export interface WebhookEventEnvelope {
  eventId: string
  eventType: string
  occurredAt: Date
  tenantId: string
  accountId: string
  /** A bigint beyond 2^53 - 1 (a legal Java long); written as an exact JSON number. */
  accountSequence: number | bigint
}

/** Top-level fields that hold an amount in the event's `currency`. */
export const MONEY_FIELDS: ReadonlySet<string> = new Set(['amount', 'balanceAfter'])

// Envelope fields that are not part of `data`: the id, type and time are
// top-level, and the tenant is the receiver itself.
const NOT_IN_DATA: ReadonlySet<string> = new Set(['eventId', 'eventType', 'occurredAt', 'tenantId', 'accountId', 'accountSequence'])

// ISO 4217 minor units where they differ from 2 (list one, 2024 edition).
const MINOR_UNITS: ReadonlyMap<string, number> = new Map([
  ...['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']
    .map((code) => [code, 0] as const),
  ...['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'].map((code) => [code, 3] as const),
  ...['CLF', 'UYW'].map((code) => [code, 4] as const)
])
const DEFAULT_MINOR_UNITS = 2

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/

/** ISO 4217 minor units of `currency`; 2 for unknown or missing codes. */
export function minorUnits (currency: string | null | undefined): number {
  if (typeof currency !== 'string') return DEFAULT_MINOR_UNITS
  return MINOR_UNITS.get(currency.toUpperCase()) ?? DEFAULT_MINOR_UNITS
}

/**
 * Formats a decimal string for the wire: trailing zeros are trimmed down to
 * the currency's minor units (padded up to them if fewer), and never past a
 * non-zero digit — the value is never rounded. "1234.5000" EUR → "1234.50",
 * "1235.0000" JPY → "1235", "1234.5600" JPY → "1234.56", "1.2345" EUR →
 * "1.2345". Throws a `TypeError` for anything but a plain decimal string.
 */
export function formatMoney (value: string, currency: string | null | undefined): string {
  const match = DECIMAL.exec(value)
  if (match === null) throw new TypeError(`money must be a decimal string such as "1234.5000", got ${JSON.stringify(value)}`)
  const [, sign = '', integer = '0', fraction = ''] = match
  const minor = minorUnits(currency)
  let digits = fraction
  while (digits.length > minor && digits.endsWith('0')) digits = digits.slice(0, -1)
  digits = digits.padEnd(minor, '0')
  const whole = integer.replace(/^0+(?=\d)/, '')
  // "-0.0000" is zero; a signed zero would only confuse receivers.
  const isZero = /^0+$/.test(whole + digits)
  return `${isZero ? '' : sign}${whole}${digits === '' ? '' : `.${digits}`}`
}

// Where a value sits, for an error message: "data.amount", "data.tags[2]".
// Built only when needed: every field of every webhook passes through here.
function pathOf (parent: string, key: string | number): string {
  return typeof key === 'number' ? `${parent}[${key}]` : `${parent}.${key}`
}

function toJson (value: unknown, parent: string, key: string | number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || value === undefined) return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${pathOf(parent, key)} is ${value}, which JSON cannot carry`)
    return value
  }
  // An Avro long beyond 2^53 - 1 (events/long.ts): the exact digits as a
  // JSON number. JSON numbers have no size limit (RFC 8259 §6); Java, Go and
  // Python receivers parse them into 64-bit integers exactly, JavaScript ones
  // read the digits with JSON.parse's reviver `context.source`.
  if (typeof value === 'bigint') return JSON.rawJSON(value.toString())
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (Array.isArray(value)) {
    const path = pathOf(parent, key)
    return value.map((item, index) => toJson(item, path, index))
  }
  if (typeof value === 'object') {
    const path = pathOf(parent, key)
    const out: Record<string, unknown> = {}
    for (const field of Object.keys(value)) {
      const item = toJson((value as Record<string, unknown>)[field], path, field)
      // A map key "__proto__" (Avro map keys are any string) is data, not a prototype.
      if (field === '__proto__') Object.defineProperty(out, field, { value: item, enumerable: true, writable: true, configurable: true })
      else out[field] = item
    }
    return out
  }
  throw new TypeError(`${pathOf(parent, key)} has type ${typeof value}, which JSON cannot carry`)
}

function money (value: unknown, field: string, currency: unknown): unknown {
  if (value === null || value === undefined) return value
  if (typeof value !== 'string') {
    throw new TypeError(`data.${field} must arrive as a decimal string, never as ${typeof value}`)
  }
  return formatMoney(value, typeof currency === 'string' ? currency : undefined)
}

/** The webhook's `data` object: account coordinates, then the type-specific fields. */
export function toWebhookData<E extends WebhookEventEnvelope> (event: E): Record<string, unknown> {
  const { currency } = event as { currency?: unknown }
  const data: Record<string, unknown> = {
    accountId: event.accountId,
    accountSequence: toJson(event.accountSequence, 'data', 'accountSequence')
  }
  const fields = event as unknown as Record<string, unknown>
  for (const field of Object.keys(fields)) {
    if (NOT_IN_DATA.has(field)) continue
    const value = fields[field]
    data[field] = MONEY_FIELDS.has(field)
      ? money(value, field, currency)
      : toJson(value, 'data', field)
  }
  return data
}

/**
 * The JSON body of the webhook for `event`:
 * `{"id": eventId, "type": eventType, "timestamp": occurredAt (ISO-8601), "data": {...}}`.
 * Throws a `TypeError` if the event holds something JSON cannot carry
 * faithfully (a numeric amount, a non-finite number, a function).
 */
export function toWebhookBody<E extends WebhookEventEnvelope> (event: E): string {
  return JSON.stringify({
    id: event.eventId,
    type: event.eventType,
    timestamp: event.occurredAt.toISOString(),
    data: toWebhookData(event)
  })
}
