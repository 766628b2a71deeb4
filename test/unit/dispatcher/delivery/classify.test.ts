import { describe, expect, it } from 'vitest'
import { classify, statusClass } from '../../../../services/dispatcher/src/delivery/classify.js'
import type { AttemptOutcome, ClassifyInput } from '../../../../services/dispatcher/src/delivery/classify.js'
import type { AttemptErrorCode, AttemptResult } from '../../../../services/dispatcher/src/delivery/types.js'

const now = Date.UTC(2025, 5, 15, 12, 0, 0)
const response = (status: number, headers: Record<string, string> = {}): ClassifyInput => ({ kind: 'response', status, headers })

describe('statusClass', () => {
  it.each<[number, string]>([
    [100, '1xx'], [199, '1xx'], [200, '2xx'], [204, '2xx'], [299, '2xx'], [300, '3xx'], [308, '3xx'],
    [400, '4xx'], [410, '4xx'], [499, '4xx'], [500, '5xx'], [599, '5xx'],
    [0, 'invalid'], [99, 'invalid'], [600, 'invalid'], [-200, 'invalid'], [200.5, 'invalid'], [Number.NaN, 'invalid']
  ])('%d → %s', (status, expected) => {
    expect(statusClass(status)).toBe(expected)
  })
})

describe('classify', () => {
  describe('responses', () => {
    it.each([200, 201, 202, 204, 226, 299])('%d is delivered', (status) => {
      expect(classify(response(status), now)).toEqual({ kind: 'delivered' })
    })

    it('410 means the endpoint is gone', () => {
      expect(classify(response(410), now)).toEqual({ kind: 'endpoint-gone' })
    })

    it.each([300, 301, 302, 303, 304, 307, 308])('%d is retried: redirects are not followed', (status) => {
      expect(classify(response(status, { location: 'https://elsewhere.example/' }), now)).toEqual({
        kind: 'retry', reason: `HTTP ${status} (redirects are not followed)`, statusClass: '3xx'
      })
    })

    it.each<[number, '4xx' | '5xx']>([
      [400, '4xx'], [401, '4xx'], [403, '4xx'], [404, '4xx'], [408, '4xx'], [409, '4xx'], [413, '4xx'], [422, '4xx'], [499, '4xx'],
      [500, '5xx'], [501, '5xx'], [502, '5xx'], [504, '5xx'], [599, '5xx']
    ])('%d is retried as %s', (status, cls) => {
      expect(classify(response(status), now)).toEqual({ kind: 'retry', reason: `HTTP ${status}`, statusClass: cls })
    })

    it.each<[number, '4xx' | '5xx']>([[429, '4xx'], [503, '5xx']])('%d carries Retry-After in seconds', (status, cls) => {
      expect(classify(response(status, { 'retry-after': '30' }), now)).toEqual({
        kind: 'retry', retryAfterMs: 30_000, reason: `HTTP ${status}`, statusClass: cls
      })
    })

    it('503 carries Retry-After given as an HTTP date', () => {
      const outcome = classify(response(503, { 'retry-after': 'Sun, 15 Jun 2025 12:02:00 GMT' }), now)
      expect(outcome).toMatchObject({ kind: 'retry', retryAfterMs: 120_000 })
    })

    it('429 without Retry-After has no retryAfterMs', () => {
      const outcome = classify(response(429), now)
      expect(outcome).toEqual({ kind: 'retry', reason: 'HTTP 429', statusClass: '4xx' })
      expect(outcome).not.toHaveProperty('retryAfterMs')
    })

    it('429 with an unparseable Retry-After has no retryAfterMs', () => {
      expect(classify(response(429, { 'retry-after': 'soon' }), now)).not.toHaveProperty('retryAfterMs')
    })

    it.each([500, 502, 301, 400])('ignores Retry-After on %d', (status) => {
      expect(classify(response(status, { 'retry-after': '30' }), now)).not.toHaveProperty('retryAfterMs')
    })

    it('ignores Retry-After on a 2xx', () => {
      expect(classify(response(200, { 'retry-after': '30' }), now)).toEqual({ kind: 'delivered' })
    })

    it.each([100, 101, 199, 0, 600, 999])('status %d is a broken response, retried as network', (status) => {
      expect(classify(response(status), now)).toEqual({
        kind: 'retry', reason: `invalid final HTTP status ${status}`, statusClass: 'network'
      })
    })
  })

  describe('transport errors', () => {
    it.each<[AttemptErrorCode, 'network' | 'timeout']>([
      ['timeout', 'timeout'],
      ['connect-timeout', 'timeout'],
      ['connection-refused', 'network'],
      ['dns', 'network'],
      ['tls', 'network'],
      ['ssrf-blocked', 'network'],
      ['reset', 'network'],
      ['other', 'network']
    ])('%s is retried as %s', (code, cls) => {
      expect(classify({ kind: 'error', code, message: 'it broke' }, now)).toEqual({
        kind: 'retry', reason: `${code}: it broke`, statusClass: cls
      })
    })
  })

  it('accepts the deliverer\'s AttemptResult as is', () => {
    const result: AttemptResult = { kind: 'response', status: 503, headers: { 'retry-after': '5' }, durationMs: 12 }
    const outcome: AttemptOutcome = classify(result, now)
    expect(outcome).toEqual({ kind: 'retry', retryAfterMs: 5000, reason: 'HTTP 503', statusClass: '5xx' })
  })
})
