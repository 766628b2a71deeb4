import { describe, expect, it } from 'vitest'
import { adminRoutes, matchRoute } from '../../../../services/dispatcher/src/http/admin/routes.js'

describe('matchRoute', () => {
  it('matches static and parameterised paths', () => {
    expect(matchRoute('GET', '/v1/endpoints')).toMatchObject({ kind: 'route', route: { operationId: 'listEndpoints' }, params: {} })
    expect(matchRoute('POST', '/v1/endpoints/ep-1/rotate-secret')).toMatchObject({ kind: 'route', route: { operationId: 'rotateEndpointSecret' }, params: { id: 'ep-1' } })
    expect(matchRoute('GET', '/v1/endpoints/3f2b1c9e-0000-4000-8000-000000000000')).toMatchObject({ params: { id: '3f2b1c9e-0000-4000-8000-000000000000' } })
  })

  it('percent-decodes the id', () => {
    expect(matchRoute('GET', '/v1/endpoints/a%3Ab')).toMatchObject({ kind: 'route', params: { id: 'a:b' } })
  })

  it.each([
    '/v1/endpoints/',
    '/v1/endpoints/..',
    '/v1/endpoints/%2e%2e',
    '/v1/endpoints/a%2Fb',
    '/v1/endpoints/%E0%A4%A',
    `/v1/endpoints/${'a'.repeat(129)}`,
    '/v1/endpoints/ep-1/unknown',
    '/v1/endpoints//pause',
    '//v1/endpoints',
    '/V1/endpoints',
    'v1/endpoints',
    '*'
  ])('does not match %s', (path) => {
    expect(matchRoute('GET', path).kind).toBe('not-found')
  })

  it('tells the allowed methods of a known path', () => {
    expect(matchRoute('PUT', '/v1/endpoints/ep-1')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'PATCH', 'DELETE'] })
    expect(matchRoute('GET', '/v1/dead-letters/redrive')).toEqual({ kind: 'method-not-allowed', allow: ['POST'] })
    expect(matchRoute('HEAD', '/healthz')).toEqual({ kind: 'method-not-allowed', allow: ['GET'] })
  })

  it('has one route per method and path, and only /healthz and /openapi.json public', () => {
    const keys = adminRoutes.map((r) => `${r.method} ${r.path}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(new Set(adminRoutes.map((r) => r.operationId)).size).toBe(adminRoutes.length)
    expect(adminRoutes.filter((r) => !r.auth).map((r) => r.path)).toEqual(['/healthz', '/openapi.json'])
  })
})
