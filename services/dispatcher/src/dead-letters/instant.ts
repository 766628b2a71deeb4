// Points in time as an operator types them on the redrive command line:
// ISO-8601 (a date, or a date-time with a zone) or epoch milliseconds.

const EPOCH_MS = /^\d{1,16}$/
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?))?$/

/**
 * Parses an instant into epoch milliseconds. Accepts:
 *
 * - epoch milliseconds: `1718000000000`;
 * - an ISO-8601 date, meaning midnight UTC: `2024-06-10`;
 * - an ISO-8601 date-time with a zone: `2024-06-10T08:30:00Z`,
 *   `2024-06-10T10:30+02:00`, fractions of a second down to milliseconds.
 *
 * A date-time without a zone is refused rather than read in the host's zone:
 * an operator redriving after an incident must get the same range on every
 * machine. Calendar-invalid values (31 April, 24:00) are refused too, where
 * `Date.parse` would roll them over.
 *
 * Throws a `RangeError` that says what is wrong.
 */
export function parseInstant (raw: string): number {
  const text = raw.trim()
  if (EPOCH_MS.test(text)) {
    const ms = Number(text)
    if (!Number.isSafeInteger(ms)) throw new RangeError(`epoch milliseconds out of range: "${raw}"`)
    return ms
  }
  const match = ISO_8601.exec(text)
  if (match === null) {
    if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text)) {
      throw new RangeError(`"${raw}" has no time zone; add one, e.g. "${text}Z"`)
    }
    throw new RangeError(`"${raw}" is neither ISO-8601 (e.g. 2024-06-10T08:30:00Z) nor epoch milliseconds`)
  }
  const [, year = '', month = '', day = '', hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] = match
  const y = Number(year)
  const mo = Number(month)
  const d = Number(day)
  const h = Number(hour)
  const mi = Number(minute)
  const s = Number(second)
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) throw new RangeError(`"${raw}" is not a valid date-time`)
  const local = Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)))
  // Date.UTC rolls 31 April over to 1 May; such a date is a typo.
  const check = new Date(local)
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new RangeError(`"${raw}" is not a calendar date`)
  }
  return local - zoneOffsetMs(zone, raw)
}

function zoneOffsetMs (zone: string, raw: string): number {
  if (zone === 'Z') return 0
  const sign = zone.startsWith('-') ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  const hours = Number(digits.slice(0, 2))
  const minutes = Number(digits.slice(2) || '0')
  if (hours > 23 || minutes > 59) throw new RangeError(`"${raw}" has an invalid zone offset`)
  return sign * (hours * 60 + minutes) * 60_000
}
