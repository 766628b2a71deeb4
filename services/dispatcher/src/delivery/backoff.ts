// When to retry a failed delivery (DESIGN §4 "Retries"). The schedule is a
// pure function of the time since the first failure, so a restarted
// dispatcher that reloads a parked delivery recomputes the same grid instead
// of starting the backoff over.

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

/**
 * Gaps between attempts: 5 s, 30 s, 2 m, 10 m, 30 m, 1 h, then 3 h for as long
 * as the max age allows (the last gap repeats).
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  5 * SECOND, 30 * SECOND, 2 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR
])
/** How long after the first failure a delivery is still attempted. */
export const DEFAULT_RETRY_MAX_AGE_MS = 72 * HOUR
/** Fraction of a gap by which an attempt may move either way. */
export const DEFAULT_RETRY_JITTER = 0.2
/** Lower clamp for a `Retry-After` value. */
export const DEFAULT_RETRY_AFTER_MIN_MS = SECOND
/** Upper clamp for a `Retry-After` value. */
export const DEFAULT_RETRY_AFTER_MAX_MS = HOUR

/** Inputs of {@link nextAttemptAt}. Times are Unix epoch milliseconds. */
export interface NextAttemptInput {
  /** When the first attempt of this delivery failed. */
  firstFailureAt: number
  /** Failed attempts so far, the first one included (at least 1). */
  attempts: number
  /** The current time. */
  now: number
  /** The endpoint's `Retry-After` (429/503), as a delay from `now`. */
  retryAfterMs?: number
  /**
   * Source of jitter in [0, 1); inject one for deterministic results.
   * @defaultValue `Math.random`
   */
  random?: () => number
  /**
   * Gaps between consecutive attempts; the last one repeats.
   * @defaultValue {@link DEFAULT_RETRY_SCHEDULE_MS}
   */
  schedule?: readonly number[]
  /**
   * Nothing is attempted later than `firstFailureAt + maxAgeMs`.
   * @defaultValue {@link DEFAULT_RETRY_MAX_AGE_MS} (72 h)
   */
  maxAgeMs?: number
  /**
   * Each attempt moves by up to ± this fraction of the gap before it.
   * @defaultValue {@link DEFAULT_RETRY_JITTER} (0.2)
   */
  jitter?: number
  /**
   * Lower clamp for `retryAfterMs`.
   * @defaultValue {@link DEFAULT_RETRY_AFTER_MIN_MS} (1 s)
   */
  retryAfterMinMs?: number
  /**
   * Upper clamp for `retryAfterMs`; wins over a larger minimum.
   * @defaultValue {@link DEFAULT_RETRY_AFTER_MAX_MS} (1 h)
   */
  retryAfterMaxMs?: number
}

/** Either the time of the next attempt, or that the delivery is out of time. */
export type NextAttempt =
  | { kind: 'retry', at: number }
  | { kind: 'exhausted' }

/**
 * The nominal time of attempt number `index` (0 = the first, failed attempt),
 * in milliseconds after the first failure: the sum of the first `index` gaps.
 */
export function slotOffsetMs (index: number, schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS): number {
  let offset = 0
  const fixed = Math.min(index, schedule.length)
  for (let i = 0; i < fixed; i++) offset += schedule[i] as number
  return offset + Math.max(0, index - schedule.length) * (schedule.at(-1) as number)
}

// The highest slot index whose nominal time is at or before `elapsed`.
function lastSlotAtOrBefore (elapsed: number, schedule: readonly number[]): number {
  let offset = 0
  for (let i = 0; i < schedule.length; i++) {
    const next = offset + (schedule[i] as number)
    if (next > elapsed) return i
    offset = next
  }
  return schedule.length + Math.floor((elapsed - offset) / (schedule.at(-1) as number))
}

/**
 * When to make the next attempt of a failed delivery.
 *
 * Attempts sit on a grid anchored at the first failure: slot k is at
 * `firstFailureAt + slotOffsetMs(k)`. The next attempt takes the first slot
 * that is both after `now` and not yet used (index ≥ `attempts`), so a slow
 * attempt or a restart skips missed slots instead of firing them in a burst,
 * and an attempt that jitter moved early does not get its slot twice. The
 * chosen slot moves by up to ± `jitter` × the gap before it, never before
 * `now`. A `Retry-After` (clamped to [min, max]) wins when it is later.
 *
 * Boundary rule: nothing is attempted after `firstFailureAt + maxAgeMs`; when
 * the schedule or `Retry-After` points past it while it is still ahead, the
 * final attempt is made exactly at the boundary. The delivery is exhausted
 * once a failure is reported at or after the boundary.
 *
 * Throws a `RangeError` for invalid options.
 */
export function nextAttemptAt (input: NextAttemptInput): NextAttempt {
  const {
    firstFailureAt,
    attempts,
    now,
    retryAfterMs,
    random = Math.random,
    schedule = DEFAULT_RETRY_SCHEDULE_MS,
    maxAgeMs = DEFAULT_RETRY_MAX_AGE_MS,
    jitter = DEFAULT_RETRY_JITTER,
    retryAfterMinMs = DEFAULT_RETRY_AFTER_MIN_MS,
    retryAfterMaxMs = DEFAULT_RETRY_AFTER_MAX_MS
  } = input
  if (!Number.isFinite(firstFailureAt) || !Number.isFinite(now)) {
    throw new RangeError('firstFailureAt and now must be finite epoch milliseconds')
  }
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be an integer of at least 1, got ${attempts}`)
  }
  if (schedule.length === 0 || !schedule.every((gap) => Number.isFinite(gap) && gap > 0)) {
    throw new RangeError('schedule must be a non-empty list of positive gaps in milliseconds')
  }
  if (!(maxAgeMs > 0 && Number.isFinite(maxAgeMs))) throw new RangeError(`maxAgeMs must be positive, got ${maxAgeMs}`)
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${jitter}`)
  if (!(retryAfterMinMs >= 0 && retryAfterMaxMs >= 0)) {
    throw new RangeError(`retryAfterMinMs and retryAfterMaxMs must not be negative, got ${retryAfterMinMs} and ${retryAfterMaxMs}`)
  }

  const deadline = firstFailureAt + maxAgeMs
  if (now >= deadline) return { kind: 'exhausted' }

  // A clock that went backwards past the first failure counts as "just failed".
  const elapsed = Math.max(0, now - firstFailureAt)
  const slot = Math.max(attempts, lastSlotAtOrBefore(elapsed, schedule) + 1)
  const gap = schedule[Math.min(slot - 1, schedule.length - 1)] as number
  const shift = (random() * 2 - 1) * jitter * gap
  let at = Math.max(now, Math.round(firstFailureAt + slotOffsetMs(slot, schedule) + shift))

  if (retryAfterMs !== undefined && !Number.isNaN(retryAfterMs)) {
    // The maximum is applied last, so it wins over a larger minimum: a
    // maximum of 0 then means "Retry-After never delays beyond the schedule".
    const clamped = Math.min(retryAfterMaxMs, Math.max(retryAfterMinMs, retryAfterMs))
    at = Math.max(at, now + clamped)
  }
  return { kind: 'retry', at: Math.min(at, deadline) }
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DAY = DAYS.join('|')
const MONTH = MONTHS.join('|')
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})'
// The three HTTP-date forms of RFC 9110 §5.6.7; recipients must accept all.
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`)
const RFC850_DATE = new RegExp(`^(?:${LONG_DAYS.join('|')}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`)
const ASCTIME_DATE = new RegExp(`^(?:${DAY}) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`)

function utc (year: number, month: string, day: string, hour: string, minute: string, second: string): number | undefined {
  const monthIndex = MONTHS.indexOf(month)
  const d = Number(day)
  const h = Number(hour)
  const m = Number(minute)
  // A leap second (60) is valid on the wire; JavaScript dates cannot hold it.
  const s = Math.min(Number(second), 59)
  if (h > 23 || m > 59 || Number(second) > 60) return undefined
  const time = Date.UTC(year, monthIndex, d, h, m, s)
  // Date.UTC rolls 31 Feb over to March; such a date is garbage.
  if (new Date(time).getUTCDate() !== d) return undefined
  return time
}

function parseHttpDate (value: string, now: number): number | undefined {
  let match = IMF_FIXDATE.exec(value)
  if (match !== null) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = match
    return utc(Number(year), month, day, h, m, s)
  }
  match = RFC850_DATE.exec(value)
  if (match !== null) {
    const [, day = '', month = '', yy = '', h = '', m = '', s = ''] = match
    // RFC 9110: a two-digit year more than 50 years ahead means the previous
    // century.
    const thisYear = new Date(now).getUTCFullYear()
    let year = Math.floor(thisYear / 100) * 100 + Number(yy)
    if (year > thisYear + 50) year -= 100
    return utc(year, month, day, h, m, s)
  }
  match = ASCTIME_DATE.exec(value)
  if (match !== null) {
    const [, month = '', day = '', h = '', m = '', s = '', year = ''] = match
    return utc(Number(year), month, day.trim(), h, m, s)
  }
  return undefined
}

/**
 * Parses a `Retry-After` header into a delay in milliseconds from `now`.
 *
 * Accepts delta-seconds (`120`) and the HTTP-date forms of RFC 9110. A date in
 * the past, or a negative number, gives 0. Anything else (empty, fractional
 * seconds, unparseable dates) gives `undefined`, so the normal schedule
 * applies. The result is not clamped; {@link nextAttemptAt} does that.
 */
export function parseRetryAfter (headerValue: string | undefined, now: number): number | undefined {
  if (headerValue === undefined) return undefined
  const value = headerValue.trim()
  if (/^-?\d+$/.test(value)) {
    const seconds = Number(value)
    if (seconds <= 0) return 0
    return Math.min(seconds * 1000, Number.MAX_SAFE_INTEGER)
  }
  const at = parseHttpDate(value, now)
  if (at === undefined) return undefined
  return Math.max(0, at - now)
}
