// What one HTTP attempt means for the delivery (DESIGN §4 "Retries").
import { parseRetryAfter } from './backoff.js'
import type { AttemptErrorCode } from './types.js'

/** The part of an attempt result that decides its outcome. */
export type ClassifyInput =
  | {
    kind: 'response'
    status: number
    /** Response headers with lower-case names. */
    headers: Readonly<Record<string, string | undefined>>
  }
  | {
    kind: 'error'
    code: AttemptErrorCode
    message: string
  }

/** Status class label of a failed attempt; bounded, for metrics. */
export type FailureClass = '3xx' | '4xx' | '5xx' | 'network' | 'timeout'

/** What to do with a delivery after one attempt. */
export type AttemptOutcome =
  | { kind: 'delivered' }
  /** 410 Gone: the endpoint is to be disabled. */
  | { kind: 'endpoint-gone' }
  | {
    kind: 'retry'
    /** The endpoint's `Retry-After` (429/503 only), unclamped. */
    retryAfterMs?: number
    /** Human-readable, for logs and the parked item's last error. */
    reason: string
    statusClass: FailureClass
  }

/** Status class of an HTTP status code, for metric labels. */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'invalid'

/** The status class of `status`; anything outside 100–599 is `invalid`. */
export function statusClass (status: number): StatusClass {
  if (!Number.isInteger(status) || status < 100 || status > 599) return 'invalid'
  return `${Math.floor(status / 100)}xx` as StatusClass
}

/**
 * Maps one attempt to its outcome: 2xx delivered; 410 endpoint gone; every
 * other status and every transport error is retried. 3xx counts as a failure
 * because redirects are never followed (a redirect could lead past the SSRF
 * check). `Retry-After` is read only on 429 and 503, the statuses whose
 * meaning includes it; `now` resolves its HTTP-date form.
 */
export function classify (result: ClassifyInput, now: number): AttemptOutcome {
  if (result.kind === 'error') {
    const timedOut = result.code === 'timeout' || result.code === 'connect-timeout'
    return {
      kind: 'retry',
      reason: `${result.code}: ${result.message}`,
      statusClass: timedOut ? 'timeout' : 'network'
    }
  }

  const { status } = result
  const cls = statusClass(status)
  if (cls === '2xx') return { kind: 'delivered' }
  if (status === 410) return { kind: 'endpoint-gone' }
  if (cls === '1xx' || cls === 'invalid') {
    // undici never surfaces an interim 1xx as the final response, so this is
    // a broken server; treat it like a broken connection.
    return { kind: 'retry', reason: `invalid final HTTP status ${status}`, statusClass: 'network' }
  }
  if (cls === '3xx') {
    return { kind: 'retry', reason: `HTTP ${status} (redirects are not followed)`, statusClass: '3xx' }
  }
  const outcome: AttemptOutcome = { kind: 'retry', reason: `HTTP ${status}`, statusClass: cls }
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(result.headers['retry-after'], now)
    if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs
  }
  return outcome
}
