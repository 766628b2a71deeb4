// The admin API's OpenAPI 3.1 document. It lives here as a module (the build
// copies only .ts files) and is served at /openapi.json; the committed
// services/dispatcher/src/http/openapi.json is this object, checked by
// test/unit/dispatcher/http/openapi.test.ts (UPDATE_OPENAPI=1 rewrites it).
import { apiErrorCodes } from './errors.js'
import { EVENT_TYPE_PATTERN, EXACT_EVENT_TYPE_PATTERN, ENDPOINT_ID_PATTERN, limits } from './validate.js'
import { TENANT_ID_PATTERN } from '../../admin-tokens.js'

type Schema = Record<string, unknown>

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: Schema, description: string): Schema => ({ description, content: { 'application/json': { schema } } })
const errorRef = (name: string): Schema => ({ $ref: `#/components/responses/${name}` })
const body = (name: string, required: boolean): Schema => ({ required, content: { 'application/json': { schema: ref(name) } } })

const isoTime = { type: 'string', format: 'date-time' }
const pem = { type: 'string', maxLength: limits.pemMaxLength, pattern: '-----BEGIN [A-Z0-9 ]+-----' }

/** A filter value, or (in a body) a list of them: any value matches. */
const filterValue = (description: string): Schema => ({
  description,
  oneOf: [
    { type: 'string', minLength: 1, maxLength: limits.filterValueMaxLength },
    { type: 'array', minItems: 1, maxItems: limits.filterValuesMax, items: { type: 'string', minLength: 1, maxLength: limits.filterValueMaxLength } }
  ]
})
const instant = (description: string): Schema => ({
  description: `${description}: ISO-8601 with a zone (2024-06-10T08:30:00Z), a date (UTC midnight), or epoch milliseconds.`,
  oneOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'integer', minimum: 0 }]
})

const endpointFields = {
  url: { type: 'string', format: 'uri', minLength: 1, maxLength: limits.urlMaxLength, description: 'https:// URL (http:// only when ALLOW_HTTP). Checked against SSRF: no private, loopback, link-local, CGNAT, multicast or reserved addresses.' },
  eventTypes: {
    type: 'array',
    minItems: 1,
    maxItems: limits.eventTypesMax,
    uniqueItems: true,
    items: { type: 'string', maxLength: limits.eventTypeMaxLength, pattern: EVENT_TYPE_PATTERN.source },
    description: 'Exact event types (transaction.posted), prefixes (transaction.*) or *.'
  },
  description: { type: 'string', maxLength: limits.descriptionMaxLength },
  maxInFlight: { type: 'integer', minimum: 1, maximum: limits.maxInFlightMax, description: 'Deliveries in flight at once to this endpoint; lowers ENDPOINT_MAX_IN_FLIGHT, never raises it.' },
  rateLimitPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: limits.rateLimitPerSecondMax, description: 'Token-bucket rate limit, deliveries per second.' },
  tls: ref('TlsInput')
}

const schemas: Record<string, Schema> = {
  Error: {
    type: 'object',
    additionalProperties: false,
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: [...apiErrorCodes], description: 'Stable code: branch on this, never on the message.' },
          message: { type: 'string', description: 'For humans; may change between versions.' },
          field: { type: 'string', description: 'The request field at fault, e.g. url, eventTypes[1], tls.caPem, limit.' }
        }
      }
    }
  },
  Health: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: { type: 'string', const: 'ok' } } },
  TlsInput: {
    type: 'object',
    additionalProperties: false,
    description: 'mTLS client certificate and key (both or neither), and a CA for private certificates. The key is stored encrypted and never returned.',
    properties: { clientCertPem: pem, clientKeyPem: pem, caPem: pem }
  },
  EndpointCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'eventTypes'],
    properties: {
      tenantId: { type: 'string', pattern: TENANT_ID_PATTERN.source, description: 'Required with an operator token; with a tenant token it may only repeat the token\'s tenant (else 403 WHD_ERR_FORBIDDEN).' },
      ...endpointFields
    }
  },
  EndpointPatch: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    description: 'Only the fields given change; null clears description, maxInFlight, rateLimitPerSecond or tls.',
    properties: {
      ...endpointFields,
      description: { ...endpointFields.description, type: ['string', 'null'] },
      maxInFlight: { ...endpointFields.maxInFlight, type: ['integer', 'null'] },
      rateLimitPerSecond: { ...endpointFields.rateLimitPerSecond, type: ['number', 'null'] },
      tls: { oneOf: [ref('TlsInput'), { type: 'null' }] }
    }
  },
  Endpoint: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'tenantId', 'url', 'eventTypes', 'state', 'enabled', 'paused', 'activeSecrets'],
    properties: {
      id: { type: 'string', pattern: ENDPOINT_ID_PATTERN.source },
      tenantId: { type: 'string' },
      url: { type: 'string' },
      eventTypes: { type: 'array', items: { type: 'string' } },
      state: { type: 'string', enum: ['enabled', 'disabled', 'paused'], description: 'disabled if not enabled, else paused if paused, else enabled.' },
      enabled: { type: 'boolean', description: 'False after 410 Gone or a disable call: deliveries are dead-lettered.' },
      paused: { type: 'boolean', description: 'Deliveries park without loss until resumed, then go out in order.' },
      disabledReason: { type: 'string' },
      description: { type: 'string' },
      maxInFlight: { type: 'integer' },
      rateLimitPerSecond: { type: 'number' },
      tls: {
        type: 'object',
        additionalProperties: false,
        required: ['clientCertificate', 'caCertificate'],
        properties: { clientCertificate: { type: 'boolean' }, caCertificate: { type: 'boolean' } },
        description: 'Which TLS material is configured; the PEMs are not returned.'
      },
      activeSecrets: { type: 'integer', minimum: 0, description: 'Secrets signing now; 2 or more during a rotation\'s grace period. The secrets themselves are never listed here.' },
      createdAt: isoTime,
      updatedAt: isoTime
    }
  },
  EndpointPage: {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: {
      items: { type: 'array', items: ref('Endpoint') },
      nextCursor: { type: 'string', description: 'Pass as cursor for the next page; absent on the last page.' }
    }
  },
  Secret: { type: 'string', pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$', description: 'Standard Webhooks secret: whsec_ + base64 of the key bytes.' },
  EndpointCreated: {
    type: 'object',
    additionalProperties: false,
    required: ['endpoint', 'secret'],
    properties: { endpoint: ref('Endpoint'), secret: { ...ref('Secret'), description: 'Shown once; retrieve later only through GET /v1/endpoints/{id}/secret.' } }
  },
  RotateSecretRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      graceSeconds: { type: 'integer', minimum: 0, maximum: limits.graceSecondsMax, default: limits.graceSecondsDefault, description: 'How long the previous secrets keep signing alongside the new one (0 = stop at once; at most 7 days).' }
    }
  },
  SecretRotated: {
    type: 'object',
    additionalProperties: false,
    required: ['endpoint', 'secret', 'graceSeconds', 'previousSecretsExpireAt'],
    properties: {
      endpoint: ref('Endpoint'),
      secret: ref('Secret'),
      graceSeconds: { type: 'integer' },
      previousSecretsExpireAt: isoTime
    }
  },
  Secrets: {
    type: 'object',
    additionalProperties: false,
    required: ['secrets'],
    properties: { secrets: { type: 'array', minItems: 1, items: ref('Secret'), description: 'Newest first; every one signs (webhook-signature lists one signature per secret).' } }
  },
  EmptyRequest: { type: 'object', additionalProperties: false, maxProperties: 0, description: 'No parameters: send no body or {}.' },
  DisableRequest: {
    type: 'object',
    additionalProperties: false,
    properties: { reason: { type: 'string', minLength: 1, maxLength: limits.reasonMaxLength, description: 'Kept as disabledReason; default "disabled through the admin API".' } }
  },
  TestEventResult: {
    type: 'object',
    additionalProperties: false,
    required: ['delivered'],
    properties: {
      delivered: { type: 'boolean', description: 'The endpoint answered 2xx.' },
      status: { type: 'integer', minimum: 100, maximum: 599, description: 'The endpoint\'s HTTP status, when it answered.' },
      durationMs: { type: 'number', minimum: 0 },
      error: { type: 'string', description: 'Why there was no HTTP response (timeout, refused, SSRF blocked, TLS).' }
    }
  },
  EndpointStatus: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'state', 'circuit', 'recentSuccesses', 'recentFailures'],
    properties: {
      id: { type: 'string' },
      state: { type: 'string', enum: ['enabled', 'disabled', 'paused'] },
      disabledReason: { type: 'string' },
      circuit: { type: 'string', enum: ['closed', 'open', 'half-open'], description: 'open: deliveries park at once while the endpoint is probed.' },
      recentSuccesses: { type: 'integer', minimum: 0 },
      recentFailures: { type: 'integer', minimum: 0 },
      lastError: { type: 'string' },
      lastAttemptAt: isoTime
    }
  },
  DeadLetter: {
    type: 'object',
    additionalProperties: false,
    required: ['topic', 'partition', 'offset'],
    description: 'Metadata of one dead letter; the payload is not returned.',
    properties: {
      topic: { type: 'string' },
      partition: { type: 'integer', minimum: 0 },
      offset: { type: 'string', pattern: '^\\d+$' },
      subscriptionId: { type: 'string' },
      accountId: { type: 'string' },
      reason: { type: 'string', description: 'e.g. retries-exhausted, endpoint-gone, endpoint-disabled, corrupt-avro.' },
      deadLetteredAt: isoTime,
      sourceTopic: { type: 'string' },
      sourcePartition: { type: 'integer', minimum: 0 },
      sourceOffset: { type: 'string' },
      attempts: { type: 'integer', minimum: 0 },
      firstFailureAt: isoTime,
      lastStatus: { type: 'integer' },
      lastError: { type: 'string' }
    }
  },
  DeadLetterPage: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: ref('DeadLetter') } } },
  RedriveRequest: {
    type: 'object',
    additionalProperties: false,
    description: 'All criteria given must hold; a list matches any of its values. With a tenant token only the tenant\'s own subscriptions\' letters are considered.',
    properties: {
      subscriptionId: filterValue('Subscription (endpoint) id(s).'),
      accountId: filterValue('Account id(s): the record key.'),
      reason: filterValue('Dead-letter reason(s).'),
      sourceTopic: filterValue('Source topic(s).'),
      from: instant('Dead-lettered at or after (inclusive)'),
      to: instant('Dead-lettered before (exclusive); after from'),
      dryRun: { type: 'boolean', default: false, description: 'Count what would be redriven; write nothing.' }
    }
  },
  RedriveResult: {
    type: 'object',
    additionalProperties: false,
    required: ['dryRun', 'matched', 'redriven', 'skipped', 'complete', 'skippedByReason'],
    properties: {
      dryRun: { type: 'boolean' },
      scanned: { type: 'integer', minimum: 0, description: 'Dead letters read (all tenants\'): operator tokens only.' },
      matched: { type: 'integer', minimum: 0 },
      redriven: { type: 'integer', minimum: 0, description: 'Written back to the retry lane (in a dry run: would be).' },
      skipped: { type: 'integer', minimum: 0, description: 'Matched but not redrivable (see skippedByReason).' },
      complete: { type: 'boolean', description: 'False when the scan stopped early.' },
      skippedByReason: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } }
    }
  }
}

const responses: Record<string, Schema> = {
  BadRequest: json(ref('Error'), 'WHD_ERR_BAD_REQUEST (malformed JSON, not an object), WHD_ERR_VALIDATION (names the field; also unknown fields and query parameters), WHD_ERR_URL_INVALID or WHD_ERR_SSRF_BLOCKED (field url).'),
  Unauthorized: {
    ...json(ref('Error'), 'WHD_ERR_UNAUTHORIZED: no bearer token, or not a valid one.'),
    headers: { 'www-authenticate': { schema: { type: 'string' }, description: 'Bearer realm="webhook-dispatcher-admin"' } }
  },
  Forbidden: json(ref('Error'), 'WHD_ERR_FORBIDDEN: a tenant token named another tenant in tenantId.'),
  NotFound: json(ref('Error'), 'WHD_ERR_NOT_FOUND: no such endpoint, or it belongs to another tenant (the two are indistinguishable).'),
  Conflict: json(ref('Error'), 'WHD_ERR_CONFLICT: the change conflicts with the current state.'),
  PayloadTooLarge: json(ref('Error'), 'WHD_ERR_PAYLOAD_TOO_LARGE: the body exceeds the cap (64 KiB by default); the connection is closed.'),
  UnsupportedMediaType: json(ref('Error'), 'WHD_ERR_UNSUPPORTED_MEDIA_TYPE: a body that is not application/json.'),
  Internal: json(ref('Error'), 'WHD_ERR_INTERNAL: no details are given; quote x-request-id to the operators.'),
  Unavailable: json(ref('Error'), 'WHD_ERR_UNAVAILABLE: a dependency (Kafka) is temporarily unavailable; retry later.')
}

const parameters: Record<string, Schema> = {
  EndpointId: { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: ENDPOINT_ID_PATTERN.source } },
  Limit: { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: limits.pageSizeMax, default: limits.pageSizeDefault } }
}

const listFilter = (name: string, description: string): Schema => ({
  name,
  in: 'query',
  required: false,
  description: `${description} Repeat the parameter to match any of several values.`,
  style: 'form',
  explode: true,
  schema: { type: 'array', maxItems: limits.filterValuesMax, items: { type: 'string', minLength: 1, maxLength: limits.filterValueMaxLength } }
})

const common = [errorRef('Unauthorized'), errorRef('Internal')] as const
type Responses = Record<string, Schema>
// Every authenticated operation can answer 400: query parameters are refused where none are taken.
const std = (extra: Responses): Responses => ({ 400: errorRef('BadRequest'), ...extra, 401: common[0], 500: common[1] })
const withBody = (extra: Responses): Responses => std({ 400: errorRef('BadRequest'), 413: errorRef('PayloadTooLarge'), 415: errorRef('UnsupportedMediaType'), ...extra })
const idParameter = [{ $ref: '#/components/parameters/EndpointId' }]

const endpointAction = (operationId: string, summary: string, description: string, request: string, responseSchema: string, responseDescription: string): Schema => ({
  post: {
    operationId,
    tags: ['endpoints'],
    summary,
    description,
    parameters: idParameter,
    requestBody: body(request, false),
    responses: withBody({ 200: json(ref(responseSchema), responseDescription), 404: errorRef('NotFound'), 409: errorRef('Conflict'), 503: errorRef('Unavailable') })
  }
})

/** The admin API's OpenAPI 3.1 document. */
export const openApiDocument = {
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
      'Secrets are returned only by create, rotate-secret and GET …/secret; every response is `cache-control: no-store`.'
    ].join('\n')
  },
  servers: [{ url: 'http://127.0.0.1:8080', description: 'ADMIN_HOST:ADMIN_PORT (loopback by default)' }],
  security: [{ bearerAuth: [] }],
  tags: [
    { name: 'endpoints', description: 'Webhook endpoints (subscriptions)' },
    { name: 'dead-letters', description: 'Exhausted deliveries and undecodable records' },
    { name: 'meta', description: 'Liveness and this document' }
  ],
  paths: {
    '/healthz': {
      get: { operationId: 'health', tags: ['meta'], summary: 'Liveness', security: [], responses: { 200: json(ref('Health'), 'The process answers.') } }
    },
    '/openapi.json': {
      get: { operationId: 'openApiDocument', tags: ['meta'], summary: 'This document', security: [], responses: { 200: json({ type: 'object' }, 'The OpenAPI 3.1 document.') } }
    },
    '/v1/endpoints': {
      get: {
        operationId: 'listEndpoints',
        tags: ['endpoints'],
        summary: 'List endpoints',
        description: 'A tenant token lists its own tenant\'s endpoints; an operator token lists all, or one tenant\'s with tenantId. Secrets are never listed.',
        parameters: [
          { $ref: '#/components/parameters/Limit' },
          { name: 'cursor', in: 'query', required: false, description: 'nextCursor of the previous page.', schema: { type: 'string', maxLength: limits.cursorMaxLength } },
          { name: 'eventType', in: 'query', required: false, description: 'Only endpoints whose filter accepts this event type.', schema: { type: 'string', pattern: EXACT_EVENT_TYPE_PATTERN.source } },
          { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: ['enabled', 'disabled', 'paused'] } },
          { name: 'tenantId', in: 'query', required: false, description: 'Operators: only this tenant. A tenant token may only repeat its own (else 403).', schema: { type: 'string', pattern: TENANT_ID_PATTERN.source } }
        ],
        responses: std({ 200: json(ref('EndpointPage'), 'One page of endpoints.'), 400: errorRef('BadRequest'), 403: errorRef('Forbidden') })
      },
      post: {
        operationId: 'createEndpoint',
        tags: ['endpoints'],
        summary: 'Create an endpoint',
        description: 'Returns the new signing secret once.',
        requestBody: body('EndpointCreate', true),
        responses: withBody({
          201: {
            ...json(ref('EndpointCreated'), 'Created; the secret is not shown again.'),
            headers: { location: { schema: { type: 'string' }, description: '/v1/endpoints/{id}' } }
          },
          403: errorRef('Forbidden'),
          409: errorRef('Conflict'),
          503: errorRef('Unavailable')
        })
      }
    },
    '/v1/endpoints/{id}': {
      parameters: idParameter,
      get: {
        operationId: 'getEndpoint',
        tags: ['endpoints'],
        summary: 'Get an endpoint',
        responses: std({ 200: json(ref('Endpoint'), 'The endpoint, without secrets.'), 404: errorRef('NotFound') })
      },
      patch: {
        operationId: 'updateEndpoint',
        tags: ['endpoints'],
        summary: 'Update an endpoint',
        description: 'Accepts application/json or application/merge-patch+json; only the fields given change.',
        requestBody: body('EndpointPatch', true),
        responses: withBody({ 200: json(ref('Endpoint'), 'The updated endpoint.'), 404: errorRef('NotFound'), 409: errorRef('Conflict'), 503: errorRef('Unavailable') })
      },
      delete: {
        operationId: 'deleteEndpoint',
        tags: ['endpoints'],
        summary: 'Delete an endpoint',
        description: 'Deliveries still pending for it are dropped and counted.',
        responses: std({ 204: { description: 'Deleted.' }, 404: errorRef('NotFound'), 409: errorRef('Conflict'), 503: errorRef('Unavailable') })
      }
    },
    '/v1/endpoints/{id}/rotate-secret': endpointAction('rotateEndpointSecret', 'Rotate the signing secret',
      'A new secret signs at once; the previous ones keep signing alongside it for graceSeconds (default 86400, at most 7 days), then stop.',
      'RotateSecretRequest', 'SecretRotated', 'The new secret, shown once.'),
    '/v1/endpoints/{id}/secret': {
      parameters: idParameter,
      get: {
        operationId: 'getEndpointSecret',
        tags: ['endpoints'],
        summary: 'Reveal the current signing secrets',
        description: 'The one call, besides create and rotate-secret, that returns secrets. Audited.',
        responses: std({ 200: json(ref('Secrets'), 'The secrets signing now.'), 404: errorRef('NotFound') })
      }
    },
    '/v1/endpoints/{id}/pause': endpointAction('pauseEndpoint', 'Pause deliveries',
      'Deliveries park (nothing is lost) until resumed.', 'EmptyRequest', 'Endpoint', 'The paused endpoint.'),
    '/v1/endpoints/{id}/resume': endpointAction('resumeEndpoint', 'Resume deliveries',
      'The parked backlog goes out in order.', 'EmptyRequest', 'Endpoint', 'The resumed endpoint.'),
    '/v1/endpoints/{id}/enable': endpointAction('enableEndpoint', 'Enable the endpoint',
      'E.g. after a 410 Gone has disabled it and the receiver is fixed.', 'EmptyRequest', 'Endpoint', 'The enabled endpoint.'),
    '/v1/endpoints/{id}/disable': endpointAction('disableEndpoint', 'Disable the endpoint',
      'Deliveries are dead-lettered until it is enabled again.', 'DisableRequest', 'Endpoint', 'The disabled endpoint.'),
    '/v1/endpoints/{id}/test': endpointAction('sendTestEvent', 'Send a test event',
      'Delivers one webhook.test event, signed with the endpoint\'s current secrets, whatever its state; the outcome is in the body (the call itself succeeds).',
      'EmptyRequest', 'TestEventResult', 'What the endpoint answered.'),
    '/v1/endpoints/{id}/status': {
      parameters: idParameter,
      get: {
        operationId: 'getEndpointStatus',
        tags: ['endpoints'],
        summary: 'Delivery health',
        responses: std({ 200: json(ref('EndpointStatus'), 'Recent outcomes and the circuit breaker state.'), 404: errorRef('NotFound') })
      }
    },
    '/v1/dead-letters': {
      get: {
        operationId: 'listDeadLetters',
        tags: ['dead-letters'],
        summary: 'List dead letters',
        description: 'Oldest first, metadata only. A tenant token sees only letters of its own tenant\'s current endpoints.',
        parameters: [
          listFilter('subscriptionId', 'Subscription (endpoint) id.'),
          listFilter('accountId', 'Account id (the record key).'),
          listFilter('reason', 'Dead-letter reason, e.g. retries-exhausted.'),
          listFilter('sourceTopic', 'Source topic.'),
          { name: 'from', in: 'query', required: false, description: 'Dead-lettered at or after: ISO-8601 with a zone, a date, or epoch ms.', schema: { type: 'string', maxLength: 64 } },
          { name: 'to', in: 'query', required: false, description: 'Dead-lettered before (exclusive); after from.', schema: { type: 'string', maxLength: 64 } },
          { $ref: '#/components/parameters/Limit' }
        ],
        responses: std({ 200: json(ref('DeadLetterPage'), 'Up to limit dead letters.'), 400: errorRef('BadRequest'), 503: errorRef('Unavailable') })
      }
    },
    '/v1/dead-letters/redrive': {
      post: {
        operationId: 'redriveDeadLetters',
        tags: ['dead-letters'],
        summary: 'Redrive dead letters',
        description: 'Moves the matching dead letters back into the retry lane of their source partition with a fresh retry budget, in order per account. One redrive (not dry run) at a time: 409 while another runs.',
        requestBody: body('RedriveRequest', false),
        responses: withBody({ 200: json(ref('RedriveResult'), 'What was (or would be) redriven.'), 409: errorRef('Conflict'), 503: errorRef('Unavailable') })
      }
    }
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from ADMIN_TOKENS, scoped to one tenant or to all (*).' }
    },
    schemas,
    responses,
    parameters
  }
}
