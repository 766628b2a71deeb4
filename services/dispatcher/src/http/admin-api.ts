// The admin API (DESIGN §6): JSON over node:http, bearer tokens scoped to a
// tenant or to operators, every input validated, errors with a stable code.
// Routes: admin/routes.ts; handlers: admin/endpoints.ts and
// admin/dead-letters.ts; the OpenAPI document: admin/openapi.ts.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino, type Logger } from 'pino'
import type { EndpointUrlCheck } from '../delivery/ssrf/endpoint-url.js'
import type { SubscriptionStore } from '../subscriptions/store.js'
import { authenticate, type AdminToken } from '../admin-tokens.js'
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './admin/body.js'
import type { Handler, Reply } from './admin/context.js'
import { deadLetterHandlers } from './admin/dead-letters.js'
import { endpointHandlers } from './admin/endpoints.js'
import { ApiError, fromDependencyError, validationError } from './admin/errors.js'
import { openApiDocument } from './admin/openapi.js'
import { isPublic, matchRoute, type OperationId, type PublicOperationId } from './admin/routes.js'
import type { DeadLetterOperations, EndpointStatusSource, SendTestEvent } from './admin/types.js'

export { parseAdminTokens, type AdminToken, type Scope } from '../admin-tokens.js'
export { apiErrorCodes, apiErrorStatus, type ApiErrorBody, type ApiErrorCode } from './admin/errors.js'
export { openApiDocument } from './admin/openapi.js'
export { adminRoutes } from './admin/routes.js'
export type {
  CircuitState,
  DeadLetter,
  DeadLetterOperations,
  DeadLetterRedriveCounts,
  EndpointHealth,
  EndpointStatusSource,
  SendTestEvent,
  TestEventResult
} from './admin/types.js'

export interface AdminApiOptions {
  /** Endpoints (subscriptions): the source of truth the API reads and writes. */
  store: SubscriptionStore
  /** Accepted bearer tokens and their scopes (`parseAdminTokens(ADMIN_TOKENS)`). */
  tokens: readonly AdminToken[]
  deadLetters: DeadLetterOperations
  /** Sends a signed `webhook.test` event to an endpoint. */
  sendTestEvent: SendTestEvent
  /** Recent delivery health and circuit state of an endpoint. */
  endpointStatus: EndpointStatusSource
  /**
   * Checks an endpoint URL before it reaches the store, so the error names
   * the field (`checkEndpointUrl(url, policy)`). The store checks again.
   * @defaultValue no check here (the store's own applies)
   */
  ssrfCheck?: (url: string) => EndpointUrlCheck
  /** @defaultValue a disabled logger */
  logger?: Logger
  /** @defaultValue `Date.now` */
  now?: () => number
  /**
   * Largest accepted request body.
   * @defaultValue 65536 (64 KiB)
   */
  maxBodyBytes?: number
}

export type AdminRequestHandler = (req: IncomingMessage, res: ServerResponse) => void

const openApiJson = JSON.stringify(openApiDocument)

const baseHeaders = {
  'content-type': 'application/json; charset=utf-8',
  // Responses carry secrets (create, rotate, secret) and tenant data.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff'
} as const

/**
 * Builds the admin API request handler. Serve it with
 * {@link startAdminServer} or any node:http server.
 *
 * Order of checks: a public route (`/healthz`, `/openapi.json`) answers
 * without a token; every other request must authenticate first (401), so an
 * anonymous caller learns nothing about which paths exist; then the route
 * (404, 405), then the resource's tenant (404), then the input (400, 413,
 * 415).
 */
export function createAdminApi (options: AdminApiOptions): AdminRequestHandler {
  const log = (options.logger ?? pino({ enabled: false })).child({ module: 'admin-api' })
  const now = options.now ?? Date.now
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const publicHandlers: Record<PublicOperationId, () => Reply> = {
    health: () => ({ status: 200, body: { status: 'ok' } }),
    openApiDocument: () => ({ status: 200, body: openApiJson })
  }
  const handlers: Record<Exclude<OperationId, PublicOperationId>, Handler> = {
    ...endpointHandlers({
      store: options.store,
      sendTestEvent: options.sendTestEvent,
      endpointStatus: options.endpointStatus,
      now,
      ...(options.ssrfCheck === undefined ? {} : { ssrfCheck: options.ssrfCheck })
    }),
    ...deadLetterHandlers({ store: options.store, deadLetters: options.deadLetters })
  }

  async function handle (req: IncomingMessage, logFields: Record<string, unknown>): Promise<Reply> {
    const target = req.url ?? '/'
    const queryStart = target.indexOf('?')
    const pathname = queryStart === -1 ? target : target.slice(0, queryStart)
    const method = req.method ?? 'GET'
    const match = matchRoute(method, pathname)
    if (match.kind === 'route' && isPublic(match.route.operationId)) {
      logFields.operation = match.route.operationId
      return publicHandlers[match.route.operationId]()
    }
    const principal = authenticate(req.headers.authorization, options.tokens)
    if (typeof principal === 'string') {
      throw new ApiError('WHD_ERR_UNAUTHORIZED', principal === 'missing' ? 'a bearer token is required' : 'the bearer token is not valid', {
        headers: { 'www-authenticate': principal === 'missing' ? 'Bearer realm="webhook-dispatcher-admin"' : 'Bearer realm="webhook-dispatcher-admin", error="invalid_token"' }
      })
    }
    logFields.tokenId = principal.tokenId
    if (principal.scope.kind === 'tenant') logFields.scopeTenantId = principal.scope.tenantId
    if (match.kind === 'not-found') throw new ApiError('WHD_ERR_NOT_FOUND', 'no such resource')
    if (match.kind === 'method-not-allowed') {
      throw new ApiError('WHD_ERR_METHOD_NOT_ALLOWED', `method ${method} is not allowed here`, { headers: { allow: match.allow.join(', ') } })
    }
    const operation = match.route.operationId as Exclude<OperationId, PublicOperationId>
    logFields.operation = operation
    const query = new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1))
    const unexpected = 'query' in match.route ? undefined : query.keys().next().value
    if (unexpected !== undefined) throw validationError(unexpected, 'this operation takes no query parameters')
    let bodyRead: Promise<unknown> | undefined
    return await handlers[operation]({
      principal,
      params: match.params,
      query,
      body: () => {
        bodyRead ??= readJsonBody(req, maxBodyBytes)
        return bodyRead
      },
      annotate: (fields) => { Object.assign(logFields, fields) }
    })
  }

  return (req, res) => {
    const started = performance.now()
    const requestId = randomUUID()
    const logFields: Record<string, unknown> = { requestId, method: req.method }
    handle(req, logFields).then((reply) => reply, (err: unknown) => {
      const apiError = fromDependencyError(err)
      if (apiError !== undefined) {
        if (apiError.status >= 500) log.warn({ err, requestId }, 'admin request failed: dependency unavailable')
        return errorReply(apiError)
      }
      log.error({ err, requestId }, 'admin request failed')
      return errorReply(new ApiError('WHD_ERR_INTERNAL', 'internal error; the request id is in x-request-id'))
    }).then((reply) => {
      write(res, reply, requestId)
      const error = (reply.body as { error?: { code?: string } } | undefined)?.error?.code
      log.info({ ...logFields, status: reply.status, ...(error === undefined ? {} : { errorCode: error }), durationMs: Math.round(performance.now() - started) }, 'admin request')
    }).catch((err: unknown) => {
      log.error({ err, requestId }, 'admin response could not be written')
      res.destroy()
    })
  }
}

function errorReply (error: ApiError): Reply {
  const headers: Record<string, string> = { ...error.headers }
  // The unread rest of an oversized body is not consumed: close instead.
  if (error.code === 'WHD_ERR_PAYLOAD_TOO_LARGE') headers.connection = 'close'
  return { status: error.status, body: error.toBody(), headers }
}

function write (res: ServerResponse, reply: Reply, requestId: string): void {
  if (res.headersSent) return
  const headers: Record<string, string> = { ...baseHeaders, 'x-request-id': requestId, ...reply.headers }
  if (reply.status === 204 || reply.body === undefined) {
    delete headers['content-type']
    res.writeHead(reply.status, headers).end()
    return
  }
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
  headers['content-length'] = String(Buffer.byteLength(text))
  res.writeHead(reply.status, headers).end(text)
}

export interface AdminServerOptions {
  /** @defaultValue 8080 (`ADMIN_PORT`); 0 picks a free port */
  port?: number
  /** @defaultValue `127.0.0.1` (`ADMIN_HOST`): loopback only */
  host?: string
  /**
   * How long `close()` lets requests in progress finish before it closes
   * their connections.
   * @defaultValue 5000
   */
  closeTimeoutMs?: number
}

export interface AdminServer {
  server: Server
  /** The bound address (the real port when 0 was asked for). */
  host: string
  port: number
  /** Stops accepting, lets requests in progress finish, then closes idle connections. Safe to call twice. */
  close: () => Promise<void>
}

/** Starts an HTTP server for the admin API and resolves once it listens. */
export async function startAdminServer (handler: AdminRequestHandler, options: AdminServerOptions = {}): Promise<AdminServer> {
  const server = createServer({
    // Bounds on a slow or stalled client.
    headersTimeout: 10_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000
  }, handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    server,
    host: address.address,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        const deadline = setTimeout(() => server.closeAllConnections(), options.closeTimeoutMs ?? 5000)
        deadline.unref()
        server.close(() => {
          clearTimeout(deadline)
          resolve()
        })
        server.closeIdleConnections()
      })
      return closing
    }
  }
}
