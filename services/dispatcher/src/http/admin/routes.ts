// The admin API's routes: one table that fastify registers and
// @fastify/swagger documents (method, path, operationId, request and
// response schemas), so the served OpenAPI document is the routes.
import type { TSchema } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { ENDPOINT_ID_PATTERN } from '../../subscriptions/schema.js'
import {
  DisableBody,
  EmptyBody,
  EndpointCreate,
  EndpointPatch,
  IdParams,
  ListDeadLettersQuery,
  ListEndpointsQuery,
  NoQuery,
  RedriveBody,
  RotateSecretBody
} from './schemas.js'
import type { CatalogOperationId } from './event-types.js'
import type { PortalOperationId } from '../portal/sessions.js'
import { PortalLinkExchange, PortalSessionCreate, SESSION_ID_PATTERN_SOURCE, SessionIdParams } from '../portal/schemas.js'
import type { HistoryOperationId } from './history.js'
import type { ReplayOperationId } from './replays.js'
import { REPLAY_ID_PATTERN, ReplayBody, ReplayIdParams } from './replay-schemas.js'
import { EVENT_ID_PATTERN, EventIdParams, ListAttemptsQuery, ResendBody, StatsQuery } from './history-schemas.js'

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export interface RouteSpec {
  method: HttpMethod
  /** OpenAPI path template: `/v1/endpoints/{id}`. */
  path: string
  /** The operationId in the OpenAPI document; also names the handler. */
  operationId: OperationId
  /** False only for the document and the liveness probe. */
  auth: boolean
  tag: 'endpoints' | 'dead-letters' | 'history' | 'replays' | 'catalog' | 'portal' | 'meta'
  summary: string
  description?: string
  querystring?: TSchema
  body?: TSchema
  /** The body may be left out (an action's options); it then reads as `{}`. */
  bodyOptional?: true
  /** Takes `If-Match` (a conditional write: 412 when the endpoint's revision differs). */
  conditional?: true
  /** Answers with an `ETag` (the endpoint's revision). */
  etag?: true
  /** Success status → [shared schema id, description]; `null` for no body. */
  success: Record<number, [string | null, string]>
  /** Error statuses the operation can answer besides 400, 401 and 500. */
  errors?: number[]
  /** Its query string may be longer than the server reads (431). */
  longQuery?: true
}

const endpointAction = (operationId: OperationId, path: string, summary: string, description: string, body: TSchema, response = 'Endpoint', responseDescription = 'The endpoint after the change.'): RouteSpec => ({
  method: 'POST', path: `/v1/endpoints/{id}/${path}`, operationId, auth: true, tag: 'endpoints', summary, description, body, bodyOptional: true, querystring: NoQuery,
  success: { 200: [response, responseDescription] },
  errors: [404, 409, 413, 415, 503]
})

export const adminRoutes: readonly RouteSpec[] = [
  { method: 'GET', path: '/healthz', operationId: 'health', auth: false, tag: 'meta', summary: 'Liveness', success: { 200: ['Health', 'The process answers.'] } },
  { method: 'GET', path: '/openapi.json', operationId: 'openApiDocument', auth: false, tag: 'meta', summary: 'This document', success: { 200: [null, 'The OpenAPI 3.1 document.'] } },
  {
    method: 'GET', path: '/v1/endpoints', operationId: 'listEndpoints', auth: true, tag: 'endpoints', summary: 'List endpoints',
    description: 'In creation order, a page at a time. A tenant token lists its own tenant\'s; an operator token all, or one tenant\'s with tenantId. cursor is opaque: pass nextCursor back unchanged; any other value answers 400 WHD_ERR_VALIDATION (field cursor).',
    querystring: ListEndpointsQuery, success: { 200: ['EndpointPage', 'One page of endpoints.'] }, errors: [403, 503]
  },
  {
    method: 'POST', path: '/v1/endpoints', operationId: 'createEndpoint', auth: true, tag: 'endpoints', summary: 'Create an endpoint',
    description: 'Answers the endpoint and its signing secret (shown here once). tenantId is required with an operator token (else 400 WHD_ERR_VALIDATION, field tenantId); a tenant token may leave it out or repeat its own tenant (else 403).',
    querystring: NoQuery, body: EndpointCreate, success: { 201: ['EndpointCreated', 'Created; location names the endpoint.'] }, errors: [403, 409, 413, 415, 503]
  },
  { method: 'GET', path: '/v1/endpoints/{id}', operationId: 'getEndpoint', auth: true, tag: 'endpoints', summary: 'Get an endpoint', description: 'The ETag header is the endpoint\'s revision: send it as If-Match with a PATCH or DELETE.', querystring: NoQuery, etag: true, success: { 200: ['Endpoint', 'The endpoint.'] }, errors: [404] },
  {
    method: 'PATCH', path: '/v1/endpoints/{id}', operationId: 'updateEndpoint', auth: true, tag: 'endpoints', summary: 'Update an endpoint',
    description: 'JSON merge patch: the fields given change, null clears an optional one. With If-Match (the ETag of a GET) the change is made only if nobody changed the endpoint since (else 412 WHD_ERR_PRECONDITION_FAILED); without it the change is unconditional.',
    querystring: NoQuery, body: EndpointPatch, conditional: true, etag: true, success: { 200: ['Endpoint', 'The endpoint after the change.'] }, errors: [404, 409, 412, 413, 415, 503]
  },
  {
    method: 'DELETE', path: '/v1/endpoints/{id}', operationId: 'deleteEndpoint', auth: true, tag: 'endpoints', summary: 'Delete an endpoint',
    description: 'With If-Match, only if the endpoint still has that revision (else 412); without it, unconditionally.',
    querystring: NoQuery, conditional: true, success: { 204: [null, 'Deleted.'] }, errors: [404, 412, 503]
  },
  endpointAction('rotateEndpointSecret', 'rotate-secret', 'Rotate the signing secret', 'A new secret signs at once; the previous ones keep signing alongside for graceSeconds (default one day), then stop.', RotateSecretBody, 'SecretRotated', 'The new secret, shown here once.'),
  { method: 'GET', path: '/v1/endpoints/{id}/secret', operationId: 'getEndpointSecret', auth: true, tag: 'endpoints', summary: 'Reveal the signing secrets', querystring: NoQuery, success: { 200: ['EndpointSecrets', 'The secrets signing now.'] }, errors: [404] },
  endpointAction('pauseEndpoint', 'pause', 'Pause deliveries', 'Deliveries park without loss until resumed.', EmptyBody),
  endpointAction('resumeEndpoint', 'resume', 'Resume deliveries', 'The parked backlog goes out in order.', EmptyBody),
  endpointAction('enableEndpoint', 'enable', 'Enable the endpoint', 'Deliveries resume; events dead-lettered while disabled stay there (redrive them).', EmptyBody),
  endpointAction('disableEndpoint', 'disable', 'Disable the endpoint', 'Deliveries are dead-lettered as endpoint-disabled until enabled.', DisableBody),
  endpointAction('sendTestEvent', 'test', 'Send a test event', 'One signed webhook.test delivery, whatever the endpoint\'s state; nothing is parked or retried. Answers only delivered or not, with a coarse reason. At most ADMIN_TEST_EVENTS_PER_MINUTE per tenant (else 429).', EmptyBody, 'TestEventResult', 'Whether the endpoint took it.'),
  endpointAction('probeEndpoint', 'probe', 'Probe now', 'Closes the endpoint\'s circuit breaker on the instance that answers and sends the deliveries it held at once, instead of waiting for the next probe (up to 10 minutes): the next attempt is the probe. enable and resume do the same on every instance. Deliveries that failed an attempt keep their backoff.', EmptyBody, 'EndpointStatus', 'The endpoint\'s delivery health, circuit closed.'),
  { method: 'GET', path: '/v1/endpoints/{id}/status', operationId: 'getEndpointStatus', auth: true, tag: 'endpoints', summary: 'Delivery health', querystring: NoQuery, success: { 200: ['EndpointStatus', 'Recent delivery health and circuit state.'] }, errors: [404] },
  { method: 'GET', path: '/v1/dead-letters', operationId: 'listDeadLetters', auth: true, tag: 'dead-letters', summary: 'List dead letters', description: 'Metadata only, never payloads, a page at a time by (partition, offset), with the total and the counts by reason and by state over every matching letter. A tenant token sees its own subscriptions\' letters. to must be later than from (else 400). cursor is opaque: pass nextCursor back unchanged with the same filters; any other value answers 400 WHD_ERR_VALIDATION (field cursor).', querystring: ListDeadLettersQuery, success: { 200: ['DeadLetterPage', 'One page of the matching dead letters.'] }, errors: [503], longQuery: true },
  {
    method: 'POST', path: '/v1/dead-letters/redrive', operationId: 'redriveDeadLetters', auth: true, tag: 'dead-letters', summary: 'Redrive dead letters',
    description: 'Writes the matching letters back to their retry lanes and records each as redriven (when, by whom, which redrive); with dryRun it only counts them (wouldRedrive). A scope is required: subscriptionId, tenantId, or all: true (else 400 WHD_ERR_VALIDATION, field all). Letters redriven before are skipped (already-redriven) unless again: true, so the same redrive twice sends nothing twice. A redrive overlapping one that runs (through any instance, or the CLI) answers 409 WHD_ERR_REDRIVE_CONFLICT. to must be later than from (else 400).',
    querystring: NoQuery, body: RedriveBody, bodyOptional: true, success: { 200: ['RedriveResult', 'What was (or would be) redriven.'] }, errors: [403, 409, 413, 415, 503]
  },
  ...historyRoutes(),
  {
    method: 'GET', path: '/v1/event-types', operationId: 'listEventTypes', auth: true, tag: 'catalog', summary: 'The event catalog',
    description: 'Every event type a webhook can carry: a description, the JSON Schema of the body and an example body, generated from the Avro schemas (also committed as docs/event-catalog.json, and as an OpenAPI 3.1 webhooks document in docs/webhooks.openapi.json). The same for every token.',
    querystring: NoQuery, success: { 200: ['EventTypeList', 'The catalog.'] }
  },
  ...replayRoutes(),
  ...portalRoutes()
]

function portalRoutes (): RouteSpec[] {
  const off = ' Without PORTAL_SESSION_KEY the portal is off and this answers 404.'
  return [
    {
      method: 'POST', path: '/v1/portal-sessions', operationId: 'createPortalSession', auth: true, tag: 'portal', summary: 'Mint a portal sign-in link',
      description: `A one-time link into the tenant portal (/portal), scoped to one tenant: valid PORTAL_LINK_TTL_SECONDS, usable once, revocable. Using it sets a session cookie for PORTAL_SESSION_TTL_SECONDS. Operator tokens name the tenant; a tenant token mints for its own. A portal session cannot mint (403).${off}`,
      querystring: NoQuery, body: PortalSessionCreate, success: { 201: ['PortalLink', 'The link, to hand over once.'] }, errors: [403, 404, 413, 415]
    },
    {
      method: 'POST', path: '/v1/portal/sign-in', operationId: 'exchangePortalLink', auth: false, tag: 'portal', summary: 'Sign in with a portal link',
      description: `The portal's sign-in page calls this with the link's token; no bearer token. Answers a session cookie (HttpOnly, SameSite=Strict, Secure with TLS). A link that is forged (401 WHD_ERR_PORTAL_LINK_INVALID), expired (WHD_ERR_PORTAL_LINK_EXPIRED), used before (WHD_ERR_PORTAL_LINK_USED) or revoked (WHD_ERR_PORTAL_LINK_REVOKED) sets nothing. Calls with the cookie must carry x-portal-request: 1 and no foreign Origin (else 403).${off}`,
      querystring: NoQuery, body: PortalLinkExchange, success: { 200: ['PortalSession', 'Signed in: set-cookie carries the session.'] }, errors: [401, 404, 413, 415]
    },
    {
      method: 'GET', path: '/v1/portal/session', operationId: 'getPortalSession', auth: true, tag: 'portal', summary: 'Who am I',
      description: 'The caller: a bearer token (its tenant, if any) or a portal session (its id, tenant and expiry). An ended portal session answers 401 WHD_ERR_PORTAL_SESSION_ENDED.',
      querystring: NoQuery, success: { 200: ['Principal', 'The caller.'] }, errors: [403]
    },
    {
      method: 'DELETE', path: '/v1/portal-sessions/{sessionId}', operationId: 'revokePortalSession', auth: true, tag: 'portal', summary: 'Revoke a portal session',
      description: `Ends the session and its link on every instance: the link then answers WHD_ERR_PORTAL_LINK_REVOKED and the cookie WHD_ERR_PORTAL_SESSION_ENDED. Operator tokens revoke any; a portal session revokes itself (sign out, clearing the cookie).${off}`,
      querystring: NoQuery, success: { 204: [null, 'Revoked.'] }, errors: [403, 404, 503]
    }
  ]
}

function replayRoutes (): RouteSpec[] {
  return [
    {
      method: 'POST', path: '/v1/endpoints/{id}/replay', operationId: 'startReplay', auth: true, tag: 'replays', summary: 'Replay a time range',
      description: 'Starts a job that reads the source topics from the offsets of since to those of until (Kafka record timestamps) and delivers again, with their original webhook-id, the events of the endpoint\'s tenant that its filter (and eventTypes) takes — with onlyFailed, only those whose delivery to it has not succeeded. In order per account, at the endpoint\'s rate limit, at most REPLAY_MAX_IN_FLIGHT at once beside live traffic; a failed delivery goes to the retry lane (normal retry and dead-letter rules). The job survives restarts: it resumes from its checkpoints. Refusals: 400 WHD_ERR_REPLAY_RANGE (until in the future, not after since, or a range over REPLAY_MAX_RANGE_HOURS; field until), 400 WHD_ERR_REPLAY_RETENTION (since before the oldest retained record; the message names the earliest time available; field since), 409 WHD_ERR_REPLAY_CONFLICT (an active replay of this endpoint overlaps the range), 409 WHD_ERR_REPLAY_LIMIT (the tenant has REPLAY_MAX_JOBS_PER_TENANT active replays), 409 WHD_ERR_ENDPOINT_INACTIVE (the endpoint is paused or disabled).',
      querystring: NoQuery, body: ReplayBody, success: { 201: ['Replay', 'The job, started; location names it.'] }, errors: [404, 409, 413, 415, 503]
    },
    { method: 'GET', path: '/v1/endpoints/{id}/replays', operationId: 'listEndpointReplays', auth: true, tag: 'replays', summary: 'Replays of an endpoint', querystring: NoQuery, success: { 200: ['ReplayList', 'Every replay of the endpoint, newest first.'] }, errors: [404, 503] },
    { method: 'GET', path: '/v1/replays/{replayId}', operationId: 'getReplay', auth: true, tag: 'replays', summary: 'A replay and its progress', description: 'Records in range, scanned, matched, delivered, failed, and an ETA while it runs.', querystring: NoQuery, success: { 200: ['Replay', 'The job.'] }, errors: [404, 503] },
    { method: 'DELETE', path: '/v1/replays/{replayId}', operationId: 'cancelReplay', auth: true, tag: 'replays', summary: 'Cancel a replay', description: 'The job stops at its next checkpoint (at most a few hundred records later); what it delivered stays delivered. A finished job is answered as it is.', querystring: NoQuery, success: { 200: ['Replay', 'The job, cancelled.'] }, errors: [404, 503] }
  ]
}

function historyRoutes (): RouteSpec[] {
  const off = ' A deployment without a history index (HISTORY_STORE=none) answers 404.'
  return [
    {
      method: 'GET', path: '/v1/events/{eventId}', operationId: 'getEvent', auth: true, tag: 'history', summary: 'An event and its deliveries',
      description: `The event (type, account, when, where it sits on Kafka) and, per endpoint, its delivery status and every attempt and outcome, oldest first. A tenant token sees its own tenant's events only: any other id answers 404, exactly like an unknown one.${off}`,
      querystring: NoQuery, success: { 200: ['EventHistory', 'The event and its deliveries.'] }, errors: [404, 503]
    },
    {
      method: 'GET', path: '/v1/events/{eventId}/payload', operationId: 'getEventPayload', auth: true, tag: 'history', summary: 'The body as sent',
      description: `Read back from the source topic at the event's offset and rendered by the code that builds webhooks (the history keeps no copy). 410 WHD_ERR_GONE once Kafka retention has removed the record.${off}`,
      querystring: NoQuery, success: { 200: ['EventPayload', 'The webhook body.'] }, errors: [404, 410, 503]
    },
    {
      method: 'POST', path: '/v1/events/{eventId}/resend', operationId: 'resendEvent', auth: true, tag: 'history', summary: 'Resend an event',
      description: `Delivers the event again now, read back from the source topic, with its original webhook-id (receivers dedupe on it), once per endpoint; each attempt is in the history with lane manual. Out of band: not ordered against live traffic, so a receiver may get it after later events of its account; nothing is parked or retried. With endpointId, to that endpoint only: another tenant's endpoint answers 404 to a tenant token; an operator naming an endpoint of another tenant than the event's, or one whose eventTypes do not take the event, gets 409 WHD_ERR_ENDPOINT_MISMATCH; a paused or disabled one 409 WHD_ERR_ENDPOINT_INACTIVE. Without it, to every endpoint the history shows the event went to that still exists; paused and disabled ones are skipped (409 WHD_ERR_ENDPOINT_INACTIVE when all are). 410 WHD_ERR_GONE once Kafka retention has removed the record.${off}`,
      querystring: NoQuery, body: ResendBody, bodyOptional: true, success: { 200: ['ResendResult', 'What each endpoint answered.'] }, errors: [404, 409, 410, 413, 415, 503]
    },
    {
      method: 'GET', path: '/v1/endpoints/{id}/attempts', operationId: 'listEndpointAttempts', auth: true, tag: 'history', summary: 'Delivery attempts to an endpoint',
      description: `Attempts and outcomes, newest first, a page at a time. Filters combine; a malformed one answers 400 WHD_ERR_VALIDATION naming it.${off}`,
      querystring: ListAttemptsQuery, success: { 200: ['AttemptPage', 'One page of attempts.'] }, errors: [404, 503]
    },
    {
      method: 'GET', path: '/v1/endpoints/{id}/stats', operationId: 'getEndpointStats', auth: true, tag: 'history', summary: 'Delivery statistics',
      description: `Attempts, success ratio and latency percentiles over the last hour or day.${off}`,
      querystring: StatsQuery, success: { 200: ['EndpointStats', 'Statistics of the window.'] }, errors: [404, 503]
    }
  ]
}

export type OperationId = 'health' | 'openApiDocument' | 'listEndpoints' | 'createEndpoint' | 'getEndpoint' | 'updateEndpoint' | 'deleteEndpoint'
  | 'rotateEndpointSecret' | 'getEndpointSecret' | 'pauseEndpoint' | 'resumeEndpoint' | 'enableEndpoint' | 'disableEndpoint' | 'sendTestEvent'
  | 'getEndpointStatus' | 'probeEndpoint' | 'listDeadLetters' | 'redriveDeadLetters' | HistoryOperationId | 'resendEvent' | ReplayOperationId | CatalogOperationId | PortalOperationId

export type PublicOperationId = 'health' | 'openApiDocument'

const errorDescriptions: Record<number, string> = {
  400: 'WHD_ERR_BAD_REQUEST (malformed JSON, not an object), WHD_ERR_VALIDATION (names the field; also unknown fields and query parameters), WHD_ERR_URL_INVALID or WHD_ERR_SSRF_BLOCKED (field url), WHD_ERR_REPLAY_RANGE or WHD_ERR_REPLAY_RETENTION (replay: field until or since).',
  401: 'WHD_ERR_UNAUTHORIZED: no bearer token, or not a valid one. WHD_ERR_PORTAL_SESSION_ENDED: the portal session cookie expired or was revoked. WHD_ERR_PORTAL_LINK_INVALID, _EXPIRED, _USED, _REVOKED (sign-in): the link cannot sign in.',
  403: 'WHD_ERR_FORBIDDEN: a tenant token named another tenant in tenantId; a portal call without x-portal-request: 1 or from another origin; a portal session minting or revoking another session.',
  404: 'WHD_ERR_NOT_FOUND: no such endpoint, or it belongs to another tenant (the two are indistinguishable).',
  409: 'WHD_ERR_REDRIVE_CONFLICT: a redrive over an overlapping set of dead letters is running; retry when it has finished. WHD_ERR_ENDPOINT_INACTIVE (resend): the endpoint is paused or disabled. WHD_ERR_ENDPOINT_MISMATCH (resend): the endpoint is not the event\'s tenant\'s, or does not take its type. WHD_ERR_REPLAY_CONFLICT: an active replay of the endpoint overlaps the range. WHD_ERR_REPLAY_LIMIT: the tenant has as many active replays as it may have (REPLAY_MAX_JOBS_PER_TENANT). WHD_ERR_CONFLICT: the change conflicts with the current state (the endpoint is quarantined, so only DELETE is allowed); WHD_ERR_QUOTA_EXCEEDED (create): the tenant has as many endpoints as it may have (ADMIN_MAX_ENDPOINTS_PER_TENANT), delete one first.',
  410: 'WHD_ERR_GONE: the event\'s record is no longer on Kafka (retention removed it), so it cannot be read or resent; its delivery history remains.',
  412: 'WHD_ERR_PRECONDITION_FAILED: If-Match names a revision the endpoint no longer has; nothing changed. GET it again.',
  413: 'WHD_ERR_PAYLOAD_TOO_LARGE: the body exceeds the cap (64 KiB by default); the connection is closed.',
  415: 'WHD_ERR_UNSUPPORTED_MEDIA_TYPE: a body that is not application/json (or application/merge-patch+json).',
  429: 'WHD_ERR_RATE_LIMITED: too many requests from this tenant (or operator token), or too many test events from this tenant; retry after retry-after seconds.',
  500: 'WHD_ERR_INTERNAL: no details are given; quote x-request-id to the operators.',
  503: 'WHD_ERR_UNAVAILABLE: a dependency (Kafka) is temporarily unavailable, or the server is closing; retry later.'
}

const sharedRef = (id: string, description: string, extra: Record<string, unknown> = {}): TSchema => Type.Unsafe({ $ref: `${id}#`, description, ...extra })

/** The fastify `schema` of a route: what it validates, and what the document says. */
export function routeSchema (route: RouteSpec): Record<string, unknown> {
  const response: Record<string, unknown> = {}
  for (const [status, [id, description]] of Object.entries(route.success)) {
    const headers = route.etag === true ? { headers: { etag: { type: 'string', description: 'The endpoint\'s revision, quoted: send it as If-Match.' } } } : {}
    response[status] = id === null
      ? (status === '204' ? { type: 'null', description } : { type: 'object', description })
      : sharedRef(id, description, headers)
  }
  if (route.longQuery === true) {
    // Node refuses a request line and headers over 16 KiB before fastify sees the request.
    response['431'] = { type: 'object', description: 'The request line and headers exceed 16 KiB: list fewer or shorter filter values (or redrive with a body). This body is not in the API\'s error format.' }
  }
  // A public route with errors of its own (the portal sign-in) documents them, without the token's 401 and 429.
  const errorStatuses = route.auth ? [400, ...(route.errors ?? []), 401, 429, 500] : route.errors === undefined ? [] : [400, ...route.errors, 500]
  if (errorStatuses.length > 0) {
    for (const status of [...new Set(errorStatuses)].sort((a, b) => a - b)) {
      const extra = status === 401 && route.auth
        ? { headers: { 'www-authenticate': { type: 'string', description: 'Bearer realm="webhook-dispatcher-admin"' } } }
        : status === 429 ? { headers: { 'retry-after': { type: 'integer', minimum: 1, description: 'Seconds to wait before the next try.' } } } : {}
      response[String(status)] = sharedRef('Error', errorDescriptions[status] ?? '', extra)
    }
  }
  const schema: Record<string, unknown> = {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    response
  }
  if (route.description !== undefined) schema.description = route.description
  if (!route.auth) schema.security = []
  if (route.path.includes('{id}')) schema.params = IdParams
  if (route.path.includes('{eventId}')) schema.params = EventIdParams
  if (route.path.includes('{sessionId}')) schema.params = SessionIdParams
  if (route.path.includes('{replayId}')) schema.params = ReplayIdParams
  if (route.querystring !== undefined) schema.querystring = route.querystring
  if (route.body !== undefined) schema.body = route.body
  if (route.conditional === true) {
    schema.headers = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag of a GET: the write is made only if the endpoint still has that revision (else 412). Without it the write is unconditional.' })) })
  }
  return schema
}

interface OpenApiPaths {
  paths?: Record<string, Record<string, { requestBody?: { required?: boolean } }>>
}

/** The document with `requestBody.required: false` on the routes whose body may be left out. */
export function documentOptionalBodies<T extends OpenApiPaths> (document: T): T {
  for (const route of adminRoutes) {
    const body = route.bodyOptional === true ? document.paths?.[route.path]?.[route.method.toLowerCase()]?.requestBody : undefined
    if (body !== undefined) body.required = false
  }
  return document
}

const SESSION_ID = new RegExp(SESSION_ID_PATTERN_SOURCE)

/** fastify's form of a path template: `/v1/endpoints/:id`. */
export const fastifyPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1')

/**
 * The methods a path has routes for: an authenticated request with another
 * method answers 405 with `allow`. A path parameter must be an endpoint id,
 * as for routing; `pathname` is the raw (percent-encoded) path.
 */
export function allowedMethods (pathname: string): HttpMethod[] {
  const segments = pathname.split('/').slice(1)
  return adminRoutes.filter((route) => {
    const pattern = route.path.split('/').slice(1)
    return pattern.length === segments.length && pattern.every((part, index) => {
      const actual = segments[index] ?? ''
      if (part !== '{id}' && part !== '{eventId}' && part !== '{sessionId}' && part !== '{replayId}') return part === actual
      try {
        return (part === '{id}' ? ENDPOINT_ID_PATTERN : part === '{eventId}' ? EVENT_ID_PATTERN : part === '{replayId}' ? REPLAY_ID_PATTERN : SESSION_ID).test(decodeURIComponent(actual))
      } catch {
        return false
      }
    })
  }).map((route) => route.method)
}
