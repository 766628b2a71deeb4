import { describe, expect, it } from 'vitest'
import {
  parseCreateEndpoint,
  parseDisable,
  parseEmptyBody,
  parseListDeadLetters,
  parseListEndpoints,
  parsePatchEndpoint,
  parseRedrive,
  parseRotateSecret
} from '../../../../services/dispatcher/src/http/admin/validate.js'

function fails (fn: () => unknown): { code: string, field?: string, status: number } {
  try {
    fn()
  } catch (err) {
    return err as { code: string, field?: string, status: number }
  }
  throw new Error('expected a validation failure')
}

describe('parseCreateEndpoint', () => {
  it('keeps exactly the given fields', () => {
    expect(parseCreateEndpoint({ url: 'https://a.example/', eventTypes: ['*'], rateLimitPerSecond: 0.5 }))
      .toEqual({ url: 'https://a.example/', eventTypes: ['*'], rateLimitPerSecond: 0.5 })
  })

  it('refuses fields that only the store sets', () => {
    for (const field of ['id', 'secrets', 'enabled', 'paused', 'createdAt', '__proto__']) {
      const body = JSON.parse(`{"url":"https://a.example/","eventTypes":["*"],"${field}":1}`) as unknown
      expect(fails(() => parseCreateEndpoint(body))).toMatchObject({ code: 'WHD_ERR_VALIDATION', field })
    }
  })

  it('refuses a description with control characters', () => {
    expect(fails(() => parseCreateEndpoint({ url: 'https://a.example/', eventTypes: ['*'], description: 'a\u0000b' }))).toMatchObject({ field: 'description' })
    expect(parseCreateEndpoint({ url: 'https://a.example/', eventTypes: ['*'], description: 'line 1\nline 2' }).description).toBe('line 1\nline 2')
  })

  it('refuses a url with whitespace as invalid', () => {
    expect(fails(() => parseCreateEndpoint({ url: 'https://a.example/ x', eventTypes: ['*'] }))).toMatchObject({ code: 'WHD_ERR_URL_INVALID', field: 'url' })
  })
})

describe('parsePatchEndpoint', () => {
  it('passes null through to clear optional fields, and refuses null elsewhere', () => {
    expect(parsePatchEndpoint({ description: null, tls: null, maxInFlight: 3 })).toEqual({ description: null, tls: null, maxInFlight: 3 })
    expect(fails(() => parsePatchEndpoint({ url: null }))).toMatchObject({ field: 'url' })
    expect(fails(() => parsePatchEndpoint({ eventTypes: null }))).toMatchObject({ field: 'eventTypes' })
  })
})

describe('action bodies', () => {
  it('default and bound graceSeconds', () => {
    expect(parseRotateSecret(undefined)).toEqual({ graceSeconds: 86400 })
    expect(parseRotateSecret({})).toEqual({ graceSeconds: 86400 })
    expect(parseRotateSecret({ graceSeconds: 604800 })).toEqual({ graceSeconds: 604800 })
    expect(fails(() => parseRotateSecret({ graceSeconds: 604801 }))).toMatchObject({ field: 'graceSeconds' })
  })

  it('take a disable reason, and nothing on parameterless actions', () => {
    expect(parseDisable({ reason: 'fraud review' })).toEqual({ reason: 'fraud review' })
    expect(fails(() => parseDisable({ reason: '' }))).toMatchObject({ field: 'reason' })
    expect(() => parseEmptyBody(undefined)).not.toThrow()
    expect(() => parseEmptyBody({})).not.toThrow()
    expect(fails(() => parseEmptyBody([]))).toMatchObject({ code: 'WHD_ERR_BAD_REQUEST' })
  })
})

describe('query strings', () => {
  it('read the endpoint list parameters', () => {
    expect(parseListEndpoints(new URLSearchParams(''))).toEqual({ limit: 50 })
    expect(parseListEndpoints(new URLSearchParams('limit=200&state=paused&eventType=account.frozen&tenantId=t-1&cursor=abc_-=')))
      .toEqual({ limit: 200, state: 'paused', eventType: 'account.frozen', tenantId: 't-1', cursor: 'abc_-=' })
    expect(fails(() => parseListEndpoints(new URLSearchParams('limit=1e2')))).toMatchObject({ field: 'limit' })
  })

  it('read the dead-letter filters, repeatable ones as lists', () => {
    expect(parseListDeadLetters(new URLSearchParams('subscriptionId=a&subscriptionId=b&reason=r&from=2025-01-01&to=1735776000000')))
      .toEqual({ filter: { subscriptionIds: ['a', 'b'], reasons: ['r'], from: Date.parse('2025-01-01T00:00:00Z'), to: 1735776000000 }, limit: 50 })
    expect(fails(() => parseListDeadLetters(new URLSearchParams('subscriptionId=')))).toMatchObject({ field: 'subscriptionId' })
  })

  it('read a redrive body, a string or a list per filter', () => {
    expect(parseRedrive(undefined)).toEqual({ filter: {}, dryRun: false })
    expect(parseRedrive({ subscriptionId: 'a', accountId: ['x', 'y'], sourceTopic: 'banking.transactions.v1', dryRun: true }))
      .toEqual({ filter: { subscriptionIds: ['a'], accountIds: ['x', 'y'], sourceTopics: ['banking.transactions.v1'] }, dryRun: true })
    expect(fails(() => parseRedrive({ from: -1 }))).toMatchObject({ field: 'from' })
  })
})
