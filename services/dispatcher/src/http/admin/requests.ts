// What the schemas cannot say about a request: instants in their three
// forms, `from` before `to`, a filter given as one value or a list, and the
// revision an `If-Match` names. Input has passed the route's schema already.
import type { RedriveFilter } from '../../dead-letters/filter.js'
import type { DeadLetterPosition } from '../../dead-letters/page.js'
import { parseInstant } from '../../dead-letters/instant.js'
import { validationError } from './errors.js'

const filterKeys = {
  subscriptionId: 'subscriptionIds',
  accountId: 'accountIds',
  reason: 'reasons',
  sourceTopic: 'sourceTopics'
} as const

function instant (value: unknown, field: string): number {
  if (typeof value === 'number') return value
  try {
    return parseInstant(String(value))
  } catch (err) {
    throw validationError(field, `${(err as Error).message} (ISO-8601 with a zone, a date, or epoch milliseconds)`)
  }
}

/**
 * Why a value is no instant (the schema's pattern refused it): parseInstant's
 * own words where it refuses the value too ("has no time zone"), the forms
 * otherwise (16-digit epoch milliseconds, surrounding spaces).
 */
export function instantReason (value: unknown): string {
  const forms = 'ISO-8601 with a zone, a date, or epoch milliseconds (at most 15 digits)'
  try {
    parseInstant(String(value))
  } catch (err) {
    return `${(err as Error).message} (${forms})`
  }
  return `must be ${forms}, without spaces`
}

/** The dead-letter filter of a validated query string or redrive body. */
export function deadLetterFilter (input: Record<string, unknown>): RedriveFilter {
  const filter: RedriveFilter = {}
  for (const [name, key] of Object.entries(filterKeys)) {
    const value = input[name]
    if (value !== undefined) filter[key] = Array.isArray(value) ? value.map(String) : [String(value)]
  }
  if (input.from !== undefined) filter.from = instant(input.from, 'from')
  if (input.to !== undefined) filter.to = instant(input.to, 'to')
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) throw validationError('to', 'must be after from')
  return filter
}

/** The ETag of a revision: its decimal value, quoted (a strong validator, RFC 9110 §8.8.3). */
export const etagOf = (revision: number): string => `"${revision}"`

/**
 * The revision an `If-Match` header requires: undefined for none or `*`
 * (any current representation: the route already found the endpoint), NaN
 * for a value that is no ETag of ours, so it matches no revision (RFC 9110
 * §13.1.1: a strong comparison; a weak tag never matches). A list matches
 * when any member does; only one revision can, so the first of ours wins.
 */
export function ifMatchRevision (header: string | undefined, current: number | undefined): number | undefined {
  if (header === undefined) return undefined
  const tags = header.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '')
  if (tags.includes('*')) return undefined
  const revisions = tags.map((tag) => (/^"\d{1,15}"$/.test(tag) ? Number(tag.slice(1, -1)) : Number.NaN)).filter((n) => !Number.isNaN(n))
  if (current !== undefined && revisions.includes(current)) return current
  return revisions[0] ?? Number.NaN
}

/** The opaque cursor of a dead-letter page: the last listed letter's position, base64url JSON. */
export function encodeDeadLetterCursor (position: DeadLetterPosition): string {
  return Buffer.from(JSON.stringify([position.partition, position.offset.toString()]), 'utf8').toString('base64url')
}

/** The position a cursor names; 400 (field cursor) for anything the API did not hand out. */
export function decodeDeadLetterCursor (cursor: string): DeadLetterPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && (value[0] as number) >= 0 && typeof value[1] === 'string' && /^\d{1,19}$/.test(value[1])) {
      return { partition: value[0] as number, offset: BigInt(value[1]) }
    }
  } catch {
    // Not JSON: answered below.
  }
  throw validationError('cursor', 'is not a cursor this API returned; pass nextCursor back unchanged')
}
