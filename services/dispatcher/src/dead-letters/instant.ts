// Points in time as an operator types them on the redrive command line:
// ISO-8601 (a date, or a date-time with a zone) or epoch milliseconds.

const EPOCH_MS = /^\d{1,16}$/
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?))?$/

// The same three forms as one regular expression, for the admin API's schema
// (its OpenAPI document states what the API takes). It also rules out what
// parseInstant refuses on reading: month 13, hour 24, 31 April, 29 February
// of a common year (Gregorian: a year divisible by 4, except centuries not
// divisible by 400), and epoch milliseconds past 15 digits (year 33658;
// 16 digits may exceed Number.MAX_SAFE_INTEGER). ASCII digits are spelled
// [0-9]: `\d` is any Unicode digit in other regex dialects (Python's).
const D = '[0-9]'
const monthDay = `(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]${D}|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]${D}|30)|02-(?:0[1-9]|1${D}|2[0-8]))`
const leapDay = `(?:${D}{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29`
const time = `T(?:[01]${D}|2[0-3]):[0-5]${D}(?::[0-5]${D}(?:\\.${D}{1,9})?)?(?:Z|[+-](?:[01]${D}|2[0-3])(?::?[0-5]${D})?)`

/** What {@link parseInstant} accepts, untrimmed, as a JSON Schema `pattern` (ECMA-262 syntax). */
export const INSTANT_PATTERN = `^(?:${D}{1,15}|(?:${D}{4}-${monthDay}|${leapDay})(?:${time})?)$`

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
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const check = new Date(0)
  check.setUTCFullYear(y, mo - 1, d)
  check.setUTCHours(h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)))
  const local = check.getTime()
  // A date past the month's end rolls over (31 April to 1 May); such a date is a typo.
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
