// The admin API's routes: one table that the server dispatches on and that
// the OpenAPI test compares with the document, so neither can drift.
import { ENDPOINT_ID_PATTERN } from './validate.js'

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export interface RouteSpec {
  method: HttpMethod
  /** OpenAPI path template: `/v1/endpoints/{id}`. */
  path: string
  /** The operationId in the OpenAPI document; also names the handler. */
  operationId: string
  /** False only for the document and the liveness probe. */
  auth: boolean
  /** Takes query parameters (each handler validates its own); elsewhere any parameter is refused. */
  query?: true
}

export const adminRoutes = [
  { method: 'GET', path: '/healthz', operationId: 'health', auth: false },
  { method: 'GET', path: '/openapi.json', operationId: 'openApiDocument', auth: false },
  { method: 'GET', path: '/v1/endpoints', operationId: 'listEndpoints', auth: true, query: true },
  { method: 'POST', path: '/v1/endpoints', operationId: 'createEndpoint', auth: true },
  { method: 'GET', path: '/v1/endpoints/{id}', operationId: 'getEndpoint', auth: true },
  { method: 'PATCH', path: '/v1/endpoints/{id}', operationId: 'updateEndpoint', auth: true },
  { method: 'DELETE', path: '/v1/endpoints/{id}', operationId: 'deleteEndpoint', auth: true },
  { method: 'POST', path: '/v1/endpoints/{id}/rotate-secret', operationId: 'rotateEndpointSecret', auth: true },
  { method: 'GET', path: '/v1/endpoints/{id}/secret', operationId: 'getEndpointSecret', auth: true },
  { method: 'POST', path: '/v1/endpoints/{id}/pause', operationId: 'pauseEndpoint', auth: true },
  { method: 'POST', path: '/v1/endpoints/{id}/resume', operationId: 'resumeEndpoint', auth: true },
  { method: 'POST', path: '/v1/endpoints/{id}/enable', operationId: 'enableEndpoint', auth: true },
  { method: 'POST', path: '/v1/endpoints/{id}/disable', operationId: 'disableEndpoint', auth: true },
  { method: 'POST', path: '/v1/endpoints/{id}/test', operationId: 'sendTestEvent', auth: true },
  { method: 'GET', path: '/v1/endpoints/{id}/status', operationId: 'getEndpointStatus', auth: true },
  { method: 'GET', path: '/v1/dead-letters', operationId: 'listDeadLetters', auth: true, query: true },
  { method: 'POST', path: '/v1/dead-letters/redrive', operationId: 'redriveDeadLetters', auth: true }
] as const satisfies readonly RouteSpec[]

export type OperationId = (typeof adminRoutes)[number]['operationId']

/** Operations that answer without a token. */
export type PublicOperationId = Extract<(typeof adminRoutes)[number], { auth: false }>['operationId']

export function isPublic (operationId: OperationId): operationId is PublicOperationId {
  return adminRoutes.some((route) => route.operationId === operationId && !route.auth)
}

export type RouteMatch =
  | { kind: 'route', route: (typeof adminRoutes)[number], params: { id?: string } }
  /** The path exists, the method does not: 405 with `allow`. */
  | { kind: 'method-not-allowed', allow: HttpMethod[] }
  | { kind: 'not-found' }

const compiled = adminRoutes.map((route) => ({ route, segments: route.path.split('/').slice(1) }))

/**
 * Finds the route of a request. `pathname` is the raw (percent-encoded) path
 * without the query. A path parameter is percent-decoded and must look like
 * an endpoint id; otherwise no such resource can exist and the path is not
 * found. A trailing slash is not the same path.
 */
export function matchRoute (method: string, pathname: string): RouteMatch {
  const segments = pathname.split('/').slice(1)
  const allow: HttpMethod[] = []
  for (const { route, segments: pattern } of compiled) {
    if (pattern.length !== segments.length) continue
    const params: { id?: string } = {}
    const matches = pattern.every((part, index) => {
      const actual = segments[index] ?? ''
      if (part !== '{id}') return part === actual
      let decoded: string
      try {
        decoded = decodeURIComponent(actual)
      } catch {
        return false
      }
      if (!ENDPOINT_ID_PATTERN.test(decoded)) return false
      params.id = decoded
      return true
    })
    if (!matches) continue
    if (route.method === method) return { kind: 'route', route, params }
    allow.push(route.method)
  }
  return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' }
}
