// The admin API (DESIGN §6) on fastify: bearer tokens scoped to a tenant or
// to operators, every input validated against the routes' JSON Schemas
// (admin/routes.ts, built from subscriptions/schema.ts), errors with a
// stable code, and the OpenAPI document generated from the same routes by
// @fastify/swagger. Handlers: admin/endpoints.ts and admin/dead-letters.ts.
//
// Order of checks: a public route (`/healthz`, `/openapi.json`) answers
// without a token; every other request must authenticate first (401), so an
// anonymous caller learns nothing about which paths exist; then the route
// (404, 405), then the endpoint's tenant (404), all in `onRequest`, before
// the body is read; then the body and query (413, 415, 400).
import { randomUUID } from 'node:crypto'
import type { Server } from 'node:http'
import swagger from '@fastify/swagger'
import { Ajv, type Options as AjvOptions, type ErrorObject } from 'ajv'
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { pino, type Logger } from 'pino'
import { INSTANT_PATTERN } from '../dead-letters/instant.js'
import type { EndpointUrlCheck } from '../delivery/ssrf/endpoint-url.js'
import { childField, ENDPOINT_ID_PATTERN, fieldOf, reasonFor } from '../subscriptions/schema.js'
import type { SubscriptionStore } from '../subscriptions/store.js'
import type { Subscription } from '../subscriptions/types.js'
import { authenticate, scopeCovers, type AdminToken, type Principal } from '../admin-tokens.js'
import type { Handler, Reply } from './admin/context.js'
import { deadLetterHandlers } from './admin/dead-letters.js'
import { historyHandlers } from './admin/history.js'
import { catalogHandlers, EventTypeListSchema } from './admin/event-types.js'
import type { PortalOptions } from './portal/options.js'
import { portalSchemas } from './portal/schemas.js'
import { portalPrincipal } from './portal/session-auth.js'
import { portalHandlers } from './portal/sessions.js'
import { loadPortalFiles, PORTAL_HEADERS, type PortalFile } from './portal/static.js'
import { resendHandlers } from './admin/resend.js'
import { replayHandlers } from './admin/replays.js'
import { replaySchemas } from './admin/replay-schemas.js'
import { historySchemas, resendSchemas } from './admin/history-schemas.js'
import type { HistoryStore } from '../history/store.js'
import { endpointHandlers } from './admin/endpoints.js'
import { ApiError, fromDependencyError, notFound } from './admin/errors.js'
import { ifMatchRevision, instantReason } from './admin/requests.js'
import { adminRoutes, allowedMethods, documentOptionalBodies, fastifyPath, routeSchema, type OperationId, type PublicOperationId, type RouteSpec } from './admin/routes.js'
import { connectionsCheckingIntervalMs, DEFAULT_ADMIN_CONNECTION_LIMITS, type AdminConnectionLimits } from './admin/connection-limits.js'
import { DEFAULT_ADMIN_QUOTAS, RateLimiter, retryAfterSeconds, type AdminQuotas } from './admin/quotas.js'
import { sharedSchemas } from './admin/schemas.js'
import type { DeadLetterOperations, EndpointStatusSource, ReadEventPayload, ReplayOperations, ResendEvent, SendTestEvent } from './admin/types.js'

export { parseAdminTokens, type AdminToken, type Scope } from '../admin-tokens.js'
export { apiErrorCodes, apiErrorStatus, type ApiErrorBody, type ApiErrorCode } from './admin/errors.js'
export { connectionsCheckingIntervalMs, DEFAULT_ADMIN_CONNECTION_LIMITS, type AdminConnectionLimits } from './admin/connection-limits.js'
export { DEFAULT_ADMIN_QUOTAS, type AdminQuotas } from './admin/quotas.js'
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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's operationId (log lines name it). */
    operationId?: OperationId
    /** Answers without a token (`/healthz`, `/openapi.json`). */
    public?: boolean
  }
}

/** Default cap on a request body. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024

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
  /** The delivery history's index and payload reader. @defaultValue none: the history routes answer 404 */
  history?: { store: HistoryStore, readPayload: ReadEventPayload }
  /** Resends an event from Kafka (`POST /v1/events/{eventId}/resend`). @defaultValue none: the route answers 503 */
  resend?: ResendEvent
  /** Replay jobs (`POST /v1/endpoints/{id}/replay`, `/v1/replays/…`). @defaultValue none: the routes answer 503 */
  replays?: ReplayOperations
  /**
   * Closes an endpoint's circuit and releases the deliveries it holds, at
   * once (`POST …/probe`): the next attempt is the probe.
   * @defaultValue nothing happens (no engine)
   */
  probeEndpoint?: (id: string) => void
  /**
   * Checks an endpoint URL before it reaches the store, so the error names
   * the field (`checkEndpointUrl(url, policy)`). The store checks again.
   * @defaultValue no check here (the store's own applies)
   */
  ssrfCheck?: (url: string) => EndpointUrlCheck
  /**
   * The tenant portal's sign-in (links, session cookies).
   * @defaultValue none: the portal-session routes answer 404
   */
  portal?: PortalOptions
  /** The portal's files under /portal. @defaultValue those built next to this module (none before `npm run build`) */
  portalFiles?: ReadonlyMap<string, PortalFile>
  /** Its lines carry `module: "admin-api"` (added unless the logger has a module already). @defaultValue a disabled logger */
  logger?: Logger
  /** @defaultValue `Date.now` */
  now?: () => number
  /**
   * Largest accepted request body.
   * @defaultValue 65536 (64 KiB)
   */
  maxBodyBytes?: number
  /** Per-tenant quotas. @defaultValue {@link DEFAULT_ADMIN_QUOTAS} */
  quotas?: Partial<AdminQuotas>
  /** @defaultValue {@link DEFAULT_ADMIN_CONNECTION_LIMITS} */
  connectionLimits?: Partial<AdminConnectionLimits>
  /**
   * Serve HTTPS with this certificate (chain) and private key, PEM
   * (ADMIN_TLS_CERT_FILE, ADMIN_TLS_KEY_FILE).
   * @defaultValue plain HTTP
   */
  tls?: { certPem: string | Buffer, keyPem: string | Buffer }
}

/** The admin API: a fastify instance, not yet listening. */
export type AdminApi = FastifyInstance

interface RequestState {
  started: number
  fields: Record<string, unknown>
  principal?: Principal
  endpoint?: Subscription
  errorCode?: string
}

const JSON_MEDIA_TYPES = ['application/json', 'application/merge-patch+json']

const baseHeaders = {
  // Responses carry secrets (create, rotate, secret) and tenant data.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff'
} as const

// Bodies are taken as sent: no coercion ("60" is not 60), no defaults, no
// removal of unknown fields (they are refused). Query strings and path
// parameters are text: numbers are coerced, a repeated parameter is a list.
const ajvBase: AjvOptions = { allErrors: false, verbose: true, strict: false, removeAdditional: false }
const bodyAjv = new Ajv({ ...ajvBase, coerceTypes: false, useDefaults: false })
const queryAjv = new Ajv({ ...ajvBase, coerceTypes: 'array', useDefaults: true })
for (const ajv of [bodyAjv, queryAjv]) {
  // Formats are documentation here (date-time in responses); requests use patterns.
  ajv.addFormat('date-time', true)
}

/**
 * Builds the admin API. Serve it with {@link startAdminServer}; `inject()`
 * and `swagger()` work once it is `ready()`.
 */
export function createAdminApi (options: AdminApiOptions): AdminApi {
  const base = options.logger ?? pino({ enabled: false })
  // pino writes every binding of every child: a second `module` would be a duplicate JSON key.
  const log = base.bindings().module === undefined ? base.child({ module: 'admin-api' }) : base
  const now = options.now ?? Date.now
  const quotas: AdminQuotas = { ...DEFAULT_ADMIN_QUOTAS, ...options.quotas }
  const limits: AdminConnectionLimits = { ...DEFAULT_ADMIN_CONNECTION_LIMITS, ...options.connectionLimits }
  const requestLimiter = new RateLimiter({ perMs: quotas.requestsPerSecond / 1000, burst: quotas.requestBurst, now })
  // Node's own server options: the same for http and https.
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: connectionsCheckingIntervalMs(limits)
  }
  const app = fastify({
    bodyLimit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    genReqId: () => randomUUID(),
    // The id is ours: a caller's x-request-id is not trusted into the logs.
    requestIdHeader: false,
    // One log line per request, written below (onResponse), without the token or body.
    logger: false,
    // 503 while closing comes from the onRequest hook, in the API's error format.
    return503OnClosing: false,
    // maxParamLength: the router's default (100) answered a 128-character
    // endpoint id 414 in fastify's format; any length now reaches the id's
    // schema (404 beyond 128), and the URL's length is bounded by the header limit.
    routerOptions: { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, caseSensitive: true, maxParamLength: 16 * 1024 },
    // Bounds on a slow or stalled client. fastify sets the server's
    // requestTimeout from its own option (0, none, by default), over `http`'s.
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    ...(options.tls === undefined
      ? { http: serverOptions }
      : { https: { ...serverOptions, cert: options.tls.certPem, key: options.tls.keyPem, minVersion: 'TLSv1.2' as const } })
  })
  app.server.maxConnections = limits.maxConnections
  const state = new WeakMap<FastifyRequest, RequestState>()
  const stateOf = (request: FastifyRequest): RequestState => {
    let s = state.get(request)
    // remoteAddress: the peer of the connection (no proxy headers are trusted).
    if (s === undefined) state.set(request, s = { started: performance.now(), fields: { requestId: request.id, method: request.method, remoteAddress: request.socket.remoteAddress } })
    return s
  }
  let closing = false
  app.addHook('onClose', async () => { closing = true })
  app.addHook('preClose', async () => { closing = true })

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema))
  // Responses are written as the handlers build them (views built from
  // allow-lists); the response schemas document them, and the tests hold
  // every response against the document.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  for (const schema of [...sharedSchemas, ...historySchemas, ...resendSchemas, ...replaySchemas, EventTypeListSchema, ...portalSchemas]) app.addSchema(schema)

  app.removeAllContentTypeParsers()
  app.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer
    if (bytes.length === 0) {
      done(null, undefined)
      return
    }
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      done(new ApiError('WHD_ERR_BAD_REQUEST', 'the request body is not valid UTF-8'), undefined)
      return
    }
    try {
      done(null, JSON.parse(text) as unknown)
    } catch {
      done(new ApiError('WHD_ERR_BAD_REQUEST', 'the request body is not valid JSON'), undefined)
    }
  })

  app.addHook('onRequest', async (request, reply) => {
    stateOf(request)
    if (closing) {
      void reply.header('connection', 'close')
      throw new ApiError('WHD_ERR_UNAVAILABLE', 'the server is closing; retry on another instance or later')
    }
  })
  app.addHook('onRequest', async (request) => {
    const s = stateOf(request)
    const config = request.routeOptions.config as { operationId?: OperationId, public?: boolean }
    if (config.operationId !== undefined) s.fields.operation = config.operationId
    if (config.public === true) return
    // No bearer token but a portal session cookie: the session is the caller.
    const session = request.headers.authorization === undefined && options.portal !== undefined
      ? portalPrincipal({ headers: request.headers, origin: originOf(request) }, options.portal, now())
      : undefined
    const principal = session ?? authenticate(request.headers.authorization, options.tokens)
    if (typeof principal === 'string') {
      throw new ApiError('WHD_ERR_UNAUTHORIZED', principal === 'missing' ? 'a bearer token is required' : 'the bearer token is not valid', {
        headers: { 'www-authenticate': principal === 'missing' ? 'Bearer realm="webhook-dispatcher-admin"' : 'Bearer realm="webhook-dispatcher-admin", error="invalid_token"' }
      })
    }
    s.principal = principal
    s.fields.tokenId = principal.tokenId
    if (principal.scope.kind === 'tenant') s.fields.scopeTenantId = principal.scope.tenantId
    // All of a tenant's tokens share one budget; each operator token has its own.
    const waitMs = requestLimiter.take(principal.scope.kind === 'tenant' ? `tenant:${principal.scope.tenantId}` : `token:${principal.tokenId}`)
    if (waitMs > 0) {
      throw new ApiError('WHD_ERR_RATE_LIMITED', `more than ${quotas.requestBurst} requests at once or ${quotas.requestsPerSecond} a second; retry after the retry-after header's seconds`, {
        headers: { 'retry-after': String(retryAfterSeconds(waitMs)) }
      })
    }
    // No route: 405 or 404 now, before fastify reads a body (for QUERY it
    // would first refuse one without a content-type, 400).
    if (config.operationId === undefined) throw unrouted(request)
    // The endpoint's tenant before the body: a bad body must not reveal that another tenant's id exists.
    const id = (request.params as { id?: string } | undefined)?.id
    if (id === undefined || config.operationId === undefined) return
    const endpoint = ENDPOINT_ID_PATTERN.test(id) ? options.store.get(id) : undefined
    if (endpoint === undefined || !scopeCovers(principal.scope, endpoint.tenantId)) throw notFound()
    s.endpoint = endpoint
    Object.assign(s.fields, { endpointId: id, tenantId: endpoint.tenantId })
  })
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.headers({ ...baseHeaders, 'x-request-id': request.id })
    return payload
  })
  app.addHook('onResponse', async (request, reply) => {
    const s = stateOf(request)
    log.info({
      ...s.fields,
      status: reply.statusCode,
      ...(s.errorCode === undefined ? {} : { errorCode: s.errorCode }),
      durationMs: Math.round(performance.now() - s.started)
    }, 'admin request')
  })

  app.setNotFoundHandler(async (request) => { throw unrouted(request) })

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const apiError = toApiError(error)
    if (apiError === undefined) log.error({ err: error, requestId: request.id }, 'admin request failed')
    else if (apiError.status >= 500) log.warn({ err: error, requestId: request.id }, 'admin request failed: dependency unavailable')
    const answer = apiError ?? new ApiError('WHD_ERR_INTERNAL', 'internal error; the request id is in x-request-id')
    stateOf(request).errorCode = answer.code
    // The unread rest of an oversized body is not consumed: close instead.
    if (answer.code === 'WHD_ERR_PAYLOAD_TOO_LARGE') void reply.header('connection', 'close')
    return await reply.code(answer.status).headers({ ...answer.headers }).type('application/json; charset=utf-8').send(answer.toBody())
  })

  const handlers: Record<Exclude<OperationId, PublicOperationId>, Handler> = {
    ...endpointHandlers({
      store: options.store,
      sendTestEvent: options.sendTestEvent,
      endpointStatus: options.endpointStatus,
      probeEndpoint: options.probeEndpoint ?? (() => undefined),
      quotas,
      now,
      ...(options.ssrfCheck === undefined ? {} : { ssrfCheck: options.ssrfCheck })
    }),
    ...deadLetterHandlers({ store: options.store, deadLetters: options.deadLetters }),
    ...historyHandlers({ store: options.history?.store, readPayload: options.history?.readPayload, now }),
    ...catalogHandlers(),
    ...portalHandlers(options.portal, now),
    ...resendHandlers({ store: options.history?.store, subscriptions: options.store, resend: options.resend }),
    ...replayHandlers({ replays: options.replays, historyIndexed: options.history !== undefined, now })
  }

  const send = async (reply: FastifyReply, result: Reply): Promise<FastifyReply> => {
    void reply.code(result.status).headers({ ...result.headers })
    return result.body === undefined ? await reply.send() : await reply.send(result.body)
  }

  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Webhook dispatcher admin API',
        version: '1.0.0',
        description: [
          'Manage webhook endpoints (subscriptions), their signing secrets and state, and dead letters.',
          '',
          'Authenticate with `Authorization: Bearer <token>`. A token is scoped to one tenant or, for platform operators, to all.',
          'A tenant token sees and changes only its own tenant\'s endpoints and dead letters: any other endpoint id answers 404, exactly like an unknown one.',
          '',
          'Errors are `{"error": {"code", "message", "field"?}}` with a stable `WHD_ERR_*` code. A known path with another method answers 405 WHD_ERR_METHOD_NOT_ALLOWED with an `allow` header; an unknown path 404 (after authentication).',
          '',
          'Every endpoint has a `revision`; GET, PATCH and the actions answer it as the `ETag`. Send it as `If-Match` with PATCH or DELETE to change the endpoint only if nobody changed it since (else 412 WHD_ERR_PRECONDITION_FAILED). Without `If-Match` the write is unconditional: the last one wins.',
          'Secrets are returned only by create, rotate-secret and GET …/secret; every response is `cache-control: no-store`.'
        ].join('\n')
      },
      servers: [{ url: 'http://127.0.0.1:8080', description: 'ADMIN_HOST:ADMIN_PORT (loopback by default)' }],
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'endpoints', description: 'Webhook endpoints (subscriptions)' },
        { name: 'dead-letters', description: 'Exhausted deliveries and undecodable records' },
        { name: 'history', description: 'Delivery history: every attempt and outcome, per event and per endpoint' },
        { name: 'replays', description: 'Replays: a time range of an endpoint\'s events delivered again from Kafka, as background jobs' },
        { name: 'catalog', description: 'The event types webhooks carry: descriptions, JSON Schemas, examples' },
        { name: 'portal', description: 'Tenant portal sign-in: one-time links, sessions in a cookie' },
        { name: 'meta', description: 'Liveness and this document' }
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from ADMIN_TOKENS (tenant-scoped or operator). An operator token names the tenant where one is needed: creating an endpoint requires tenantId with it (else 400).' } }
      }
    },
    // @fastify/swagger marks every request body required; an action's options may be left out.
    transformObject: (document) => documentOptionalBodies(('openapiObject' in document ? document.openapiObject : document.swaggerObject) as Parameters<typeof documentOptionalBodies>[0]),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) }
  })

  // The tenant portal's files: public (the pages sign in with a link), hidden from the OpenAPI document.
  const portalFiles = options.portalFiles ?? loadPortalFiles()
  app.get('/portal', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => await reply.redirect('/portal/', 302))
  app.get('/portal/*', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'] || 'index.html'
    const file = portalFiles.get(name)
    if (file === undefined) throw new ApiError('WHD_ERR_NOT_FOUND', 'no such portal file')
    return await reply.headers({ ...PORTAL_HEADERS, 'content-type': file.type }).send(file.body)
  })

  void app.register(async (routes) => {
    for (const route of adminRoutes) {
      routes.route({
        method: route.method,
        url: fastifyPath(route.path),
        schema: routeSchema(route),
        config: { operationId: route.operationId, public: !route.auth },
        preValidation: optionalBody(route),
        handler: async (request, reply) => {
          if (route.operationId === 'health') return await reply.send({ status: 'ok' })
          if (route.operationId === 'openApiDocument') return await reply.send(app.swagger())
          const s = stateOf(request)
          if (s.principal === undefined && route.auth) throw new ApiError('WHD_ERR_UNAUTHORIZED', 'a bearer token is required')
          const result = await handlers[route.operationId as Exclude<OperationId, PublicOperationId>]({
            // The one public handler (the portal sign-in) reads no principal.
            principal: s.principal ?? { scope: { kind: 'tenant', tenantId: '' }, tokenId: 'anonymous' },
            origin: originOf(request),
            endpoint: s.endpoint,
            params: (request.params ?? {}) as Record<string, unknown>,
            query: (request.query ?? {}) as Record<string, unknown>,
            body: request.body,
            ifRevision: route.conditional === true ? ifMatchRevision(request.headers['if-match'], s.endpoint?.revision) : undefined,
            annotate: (fields) => { Object.assign(s.fields, fields) }
          })
          return await send(reply, result)
        }
      })
    }
  })
  return app
}

/** `http(s)://host[:port]` a request came to, from its Host header (no proxy header is trusted). */
function originOf (request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? request.hostname}`
}

/** What a request no route takes answers: 405 with `allow` on a known path, else 404. */
function unrouted (request: FastifyRequest): ApiError {
  const allow = allowedMethods((request.raw.url ?? '/').split('?')[0] ?? '/')
  if (allow.length > 0) {
    return new ApiError('WHD_ERR_METHOD_NOT_ALLOWED', `method ${request.method} is not allowed here`, { headers: { allow: allow.join(', ') } })
  }
  return new ApiError('WHD_ERR_NOT_FOUND', 'no such resource')
}

/** An action's options may be left out: no body reads as `{}`. */
function optionalBody (route: RouteSpec): ((request: FastifyRequest) => Promise<void>) | undefined {
  if (route.bodyOptional !== true) return undefined
  return async (request) => {
    if (request.body === undefined) request.body = {}
  }
}

/** The API error a thrown error stands for, or undefined (a 500). */
function toApiError (error: FastifyError): ApiError | undefined {
  if (error.validation !== undefined) return validationFailure(error.validation, error.validationContext)
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new ApiError('WHD_ERR_PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new ApiError('WHD_ERR_UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (content-type: application/json)')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new ApiError('WHD_ERR_BAD_REQUEST', 'the content-length does not match the body')
  }
  const known = fromDependencyError(error)
  if (known !== undefined) return known
  // fastify's own refusals of a malformed request (bad URL, aborted body).
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 && error.code?.startsWith('FST_') === true) {
    return new ApiError('WHD_ERR_BAD_REQUEST', 'the request is malformed')
  }
  return undefined
}

/** The first schema violation as the API's error: the field named, in the same words as the store's. */
function validationFailure (errors: Array<Partial<ErrorObject>>, context: string | undefined): ApiError {
  // A path parameter that cannot be an endpoint id names no resource.
  if (context === 'params') return notFound()
  const first = firstMeaningful(errors)
  const keyword = first.keyword ?? 'type'
  const params = (first.params ?? {}) as { missingProperty?: string, additionalProperty?: string, i?: number, j?: number }
  let field = fieldOf(first.instancePath ?? '')
  if (keyword === 'required' && params.missingProperty !== undefined) field = childField(field, params.missingProperty)
  if (keyword === 'additionalProperties' && params.additionalProperty !== undefined) field = childField(field, params.additionalProperty)
  if (keyword === 'uniqueItems') field = childField(field, Math.max(params.i ?? 0, params.j ?? 0))
  if (context === 'body' && field === '' && keyword === 'type') return new ApiError('WHD_ERR_BAD_REQUEST', 'the request body must be a JSON object')
  const schema = (first.parentSchema ?? {}) as { pattern?: string }
  const reason = keyword === 'additionalProperties'
    ? (context === 'querystring' ? 'is not a query parameter of this operation' : 'is not a field that can be set here')
    : keyword === 'pattern' && schema.pattern === INSTANT_PATTERN
      ? instantReason(first.data)
      : reasonFor(keyword, (first.parentSchema ?? {}) as Parameters<typeof reasonFor>[1])
  if (field === 'url' && context === 'body' && keyword === 'pattern') return new ApiError('WHD_ERR_URL_INVALID', `url: ${reason}`, { field })
  if (field === '') return new ApiError('WHD_ERR_VALIDATION', reason)
  return new ApiError('WHD_ERR_VALIDATION', `${field}: ${reason}`, { field })
}

/**
 * The error to report. For a failed `anyOf` (a string or a list, a value or
 * null) the deepest branch error names the field best (`accountId[0]`);
 * when no branch got deeper than the value itself, the one branch of the
 * value's type says why ("has no time zone" for a string instant), and
 * when the value has none of the types, the `anyOf` says it all ("must be a
 * string or null").
 */
function firstMeaningful (errors: Array<Partial<ErrorObject>>): Partial<ErrorObject> {
  const anyOf = errors.find((e) => e.keyword === 'anyOf')
  if (anyOf === undefined) return errors[0] ?? {}
  const branches = errors.filter((e) => e !== anyOf)
  const depth = (e: Partial<ErrorObject>): number => (e.instancePath ?? '').split('/').length
  const deepest = branches.reduce<Partial<ErrorObject> | undefined>((best, e) => (best === undefined || depth(e) > depth(best) ? e : best), undefined)
  if (deepest !== undefined && depth(deepest) > depth(anyOf)) return deepest
  const ofItsType = branches.filter((e) => e.keyword !== 'type')
  return ofItsType.length === 1 && ofItsType[0] !== undefined ? ofItsType[0] : anyOf
}

/** The OpenAPI document the API serves, built from its routes. */
export async function adminOpenApiDocument (): Promise<Record<string, unknown>> {
  const inert = async (): Promise<never> => { throw new Error('not served') }
  const app = createAdminApi({
    store: undefined as unknown as SubscriptionStore,
    tokens: [],
    deadLetters: { list: inert, redrive: inert },
    sendTestEvent: inert,
    endpointStatus: inert
  })
  await app.ready()
  const document = app.swagger() as unknown as Record<string, unknown>
  await app.close()
  return document
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
  /** Stops accepting (requests on open connections get 503), lets requests in progress finish, then closes the connections. Safe to call twice. */
  close: () => Promise<void>
}

/** Starts the admin API listening and resolves once it listens. */
export async function startAdminServer (app: AdminApi, options: AdminServerOptions = {}): Promise<AdminServer> {
  await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the admin API listens on no TCP address')
  let closing: Promise<void> | undefined
  return {
    server: app.server,
    host: address.address,
    port: address.port,
    close: () => {
      closing ??= (async () => {
        const deadline = setTimeout(() => app.server.closeAllConnections(), options.closeTimeoutMs ?? 5000)
        deadline.unref()
        try {
          await app.close()
        } finally {
          clearTimeout(deadline)
        }
      })()
      return closing
    }
  }
}
