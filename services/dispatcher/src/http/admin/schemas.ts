// The admin API's request and response schemas (TypeBox, i.e. JSON Schema).
// Request bodies are the subscription schema itself (subscriptions/schema.ts);
// fastify validates requests with these, and @fastify/swagger writes them into
// the OpenAPI document: the document cannot disagree with the validation.
import { Type, type TSchema } from '@sinclair/typebox'
import {
  EndpointCreate as SubscriptionCreate,
  EndpointId,
  EndpointPatch,
  ExactEventType,
  GraceSeconds,
  Reason,
  Revision,
  Secret,
  subscriptionLimits,
  TenantId
} from '../../subscriptions/schema.js'
import { INSTANT_PATTERN } from '../../dead-letters/instant.js'
import { apiErrorCodes, type ApiErrorCode } from './errors.js'

export { EndpointPatch }

/** Bounds of the API's own parameters (the endpoint's are `subscriptionLimits`). */
export const apiLimits = Object.freeze({
  pageSizeMax: 200,
  pageSizeDefault: 50,
  cursorMaxLength: 512,
  filterValuesMax: 100,
  filterValueMaxLength: 256
})

/** A schema shared by name: a component of the OpenAPI document. */
const shared = <T extends TSchema>(id: string, schema: T): T => ({ ...schema, $id: id })
const ref = (id: string, options: { description?: string } = {}): TSchema => Type.Unsafe({ $ref: `${id}#`, ...options })

const isoTime = Type.String({ format: 'date-time' })
const State = Type.Union([Type.Literal('enabled'), Type.Literal('disabled'), Type.Literal('paused')], { description: 'disabled if not enabled, else paused if paused, else enabled.' })

export const ErrorSchema = shared('Error', Type.Object({
  error: Type.Object({
    code: Type.Unsafe<ApiErrorCode>({ type: 'string', enum: [...apiErrorCodes], description: 'Stable: branch on it, never on the message.' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'The request field at fault: url, eventTypes[1], tls.caPem, a query parameter.' }))
  }, { additionalProperties: false })
}, { additionalProperties: false, description: 'Every error response.' }))

export const EndpointSchema = shared('Endpoint', Type.Object({
  id: EndpointId,
  tenantId: Type.String(),
  revision: Revision,
  url: Type.String(),
  eventTypes: Type.Array(Type.String()),
  state: State,
  enabled: Type.Boolean({ description: 'False after 410 Gone or a disable call: deliveries are dead-lettered.' }),
  paused: Type.Boolean({ description: 'Deliveries park without loss until resumed, then go out in order.' }),
  disabledReason: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  maxInFlight: Type.Optional(Type.Integer()),
  rateLimitPerSecond: Type.Optional(Type.Number()),
  tls: Type.Optional(Type.Object({ clientCertificate: Type.Boolean(), caCertificate: Type.Boolean() }, {
    additionalProperties: false,
    description: 'Which TLS material is configured; the PEMs are not returned.'
  })),
  activeSecrets: Type.Integer({ minimum: 0, description: 'Secrets signing now; 2 or more during a rotation\'s grace period. The secrets themselves are never listed here.' }),
  createdAt: Type.Optional(isoTime),
  updatedAt: Type.Optional(isoTime)
}, { additionalProperties: false }))

export const EndpointPageSchema = shared('EndpointPage', Type.Object({
  items: Type.Array(ref('Endpoint')),
  nextCursor: Type.Optional(Type.String({ description: 'Pass as cursor for the next page; absent on the last page.' }))
}, { additionalProperties: false }))

export const EndpointCreatedSchema = shared('EndpointCreated', Type.Object({
  endpoint: ref('Endpoint'),
  secret: { ...Secret, description: 'The signing secret (Standard Webhooks whsec_…). Shown once here; GET …/secret shows it again.' }
}, { additionalProperties: false }))

export const SecretRotatedSchema = shared('SecretRotated', Type.Object({
  endpoint: ref('Endpoint'),
  secret: Secret,
  graceSeconds: GraceSeconds,
  previousSecretsExpireAt: isoTime
}, { additionalProperties: false }))

export const EndpointSecretsSchema = shared('EndpointSecrets', Type.Object({
  secrets: Type.Array(Secret, { description: 'Newest first; all of them sign during a rotation\'s grace period.' })
}, { additionalProperties: false }))

export const TestEventResultSchema = shared('TestEventResult', Type.Object({
  delivered: Type.Boolean({ description: 'The endpoint answered 2xx.' }),
  reason: Type.Optional(Type.Union([Type.Literal('rejected'), Type.Literal('unreachable')], {
    description: 'When not delivered: rejected = the endpoint answered, but not 2xx; unreachable = no HTTP answer (no connection, TLS, timeout, or an address the dispatcher may not reach). Details are in the dispatcher\'s log, not here.'
  }))
}, { additionalProperties: false }))

export const EndpointStatusSchema = shared('EndpointStatus', Type.Object({
  id: Type.String(),
  state: State,
  disabledReason: Type.Optional(Type.String()),
  circuit: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open')], { description: 'open: deliveries park at once while the endpoint is probed.' }),
  recentSuccesses: Type.Integer({ minimum: 0 }),
  recentFailures: Type.Integer({ minimum: 0 }),
  lastError: Type.Optional(Type.String()),
  lastAttemptAt: Type.Optional(isoTime)
}, { additionalProperties: false }))

export const DeadLetterSchema = shared('DeadLetter', Type.Object({
  topic: Type.String(),
  partition: Type.Integer({ minimum: 0 }),
  offset: Type.String({ pattern: '^\\d+$' }),
  subscriptionId: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String({ description: 'e.g. retries-exhausted, endpoint-gone, endpoint-disabled, corrupt-avro.' })),
  deadLetteredAt: Type.Optional(isoTime),
  sourceTopic: Type.Optional(Type.String()),
  sourcePartition: Type.Optional(Type.Integer({ minimum: 0 })),
  sourceOffset: Type.Optional(Type.String()),
  attempts: Type.Optional(Type.Integer({ minimum: 0 })),
  firstFailureAt: Type.Optional(isoTime),
  lastStatus: Type.Optional(Type.Integer()),
  lastError: Type.Optional(Type.String())
}, { additionalProperties: false, description: 'Metadata of one dead letter; the payload is not returned.' }))

export const DeadLetterPageSchema = shared('DeadLetterPage', Type.Object({ items: Type.Array(ref('DeadLetter')) }, { additionalProperties: false }))

export const RedriveResultSchema = shared('RedriveResult', Type.Object({
  dryRun: Type.Boolean(),
  scanned: Type.Optional(Type.Integer({ minimum: 0, description: 'Dead letters read (all tenants\'): operator tokens only.' })),
  matched: Type.Integer({ minimum: 0 }),
  redriven: Type.Integer({ minimum: 0, description: 'Written back to the retry lane (in a dry run: would be).' }),
  skipped: Type.Integer({ minimum: 0, description: 'Matched but not redrivable (see skippedByReason).' }),
  complete: Type.Boolean({ description: 'False when the scan stopped early.' }),
  skippedByReason: Type.Record(Type.String(), Type.Integer({ minimum: 0 }))
}, { additionalProperties: false }))

export const HealthSchema = shared('Health', Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }))

/** Every shared schema, added to fastify so routes and the document can name them. */
export const sharedSchemas: readonly TSchema[] = [
  ErrorSchema, EndpointSchema, EndpointPageSchema, EndpointCreatedSchema, SecretRotatedSchema, EndpointSecretsSchema,
  TestEventResultSchema, EndpointStatusSchema, DeadLetterSchema, DeadLetterPageSchema, RedriveResultSchema, HealthSchema
]

// ---- requests -------------------------------------------------------------

/** `POST /v1/endpoints`: the subscription schema's, with what the token changes about tenantId. */
export const EndpointCreate = Type.Object({
  ...SubscriptionCreate.properties,
  tenantId: Type.Optional({
    ...TenantId,
    description: `${TenantId.description ?? ''} Required with an operator token (else 400 WHD_ERR_VALIDATION with field tenantId); with a tenant token it defaults to the token's tenant, and any other answers 403.`
  })
}, { additionalProperties: false })

export const IdParams = Type.Object({ id: { ...EndpointId, description: 'Endpoint id. An id outside the caller\'s tenant answers 404, exactly like an unknown one.' } })

/** Routes without query parameters refuse any. */
export const NoQuery = Type.Object({}, { additionalProperties: false })

export const ListEndpointsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: apiLimits.pageSizeMax, default: apiLimits.pageSizeDefault })),
  cursor: Type.Optional(Type.String({
    minLength: 1,
    maxLength: apiLimits.cursorMaxLength,
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'Opaque (base64url text): nextCursor of the previous page, passed back unchanged, with the same filters. Any other value answers 400 WHD_ERR_VALIDATION with field cursor.'
  })),
  eventType: Type.Optional({ ...ExactEventType, description: 'Only endpoints whose filter accepts this event type.' }),
  state: Type.Optional(State),
  tenantId: Type.Optional({ ...TenantId, description: 'Operators: only this tenant. A tenant token may only repeat its own (else 403).' })
}, { additionalProperties: false })

const filterValue = Type.String({ minLength: 1, maxLength: apiLimits.filterValueMaxLength })
const filterList = (description: string): TSchema => Type.Array(filterValue, { minItems: 1, maxItems: apiLimits.filterValuesMax, description })
const instantForms = 'ISO-8601 with a zone (2024-06-10T08:30:00Z, 2024-06-10T10:30+02:00), a date (UTC midnight: 2024-06-10), or epoch milliseconds (at most 15 digits)'
const instantText = (description: string): TSchema => Type.String({ minLength: 1, maxLength: 64, pattern: INSTANT_PATTERN, description: `${description}: ${instantForms}.` })
const fromDescription = 'Dead-lettered at or after (inclusive)'
// JSON Schema cannot relate two fields: the rule is stated, and enforced by the handler (400 WHD_ERR_VALIDATION, field to).
const toDescription = 'Dead-lettered before (exclusive). Must be later than from when both are given, else 400 WHD_ERR_VALIDATION with field to'
const instant = (description: string): TSchema => Type.Union([instantText(description), Type.Integer({ minimum: 0, description: 'Epoch milliseconds.' })], {
  description: `${description}: ${instantForms}, or a JSON integer of epoch milliseconds.`
})

/** The dead-letter filters; in a query string a list filter may repeat, in a body it is a string or a list. */
const deadLetterFilters = {
  subscriptionId: filterList('Subscription (endpoint) id(s).'),
  accountId: filterList('Account id(s): the record key.'),
  reason: filterList('Dead-letter reason(s).'),
  sourceTopic: filterList('Source topic(s).')
}

export const ListDeadLettersQuery = Type.Object({
  ...Object.fromEntries(Object.entries(deadLetterFilters).map(([name, schema]) => [name, Type.Optional(schema)])),
  from: Type.Optional(instantText(fromDescription)),
  to: Type.Optional(instantText(toDescription)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: apiLimits.pageSizeMax, default: apiLimits.pageSizeDefault }))
}, { additionalProperties: false })

const oneOrMany = (schema: TSchema): TSchema => Type.Union([filterValue, schema], { description: schema.description })

export const RedriveBody = Type.Object({
  subscriptionId: Type.Optional(oneOrMany(deadLetterFilters.subscriptionId)),
  accountId: Type.Optional(oneOrMany(deadLetterFilters.accountId)),
  reason: Type.Optional(oneOrMany(deadLetterFilters.reason)),
  sourceTopic: Type.Optional(oneOrMany(deadLetterFilters.sourceTopic)),
  from: Type.Optional(instant(fromDescription)),
  to: Type.Optional(instant(toDescription)),
  dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Count what would be redriven; write nothing.' }))
}, { additionalProperties: false, description: 'All criteria given must hold; a list matches any of its values. With a tenant token only the tenant\'s own subscriptions\' letters are considered.' })

export const RotateSecretBody = Type.Object({
  graceSeconds: Type.Optional({ ...GraceSeconds, default: subscriptionLimits.graceSecondsDefault, description: 'How long the previous secrets keep signing alongside the new one (0 = stop at once; at most 7 days).' })
}, { additionalProperties: false })

export const DisableBody = Type.Object({
  reason: Type.Optional({ ...Reason, description: 'Kept as disabledReason; default "disabled through the admin API".' })
}, { additionalProperties: false })

/** Actions without parameters take no body or `{}`. */
export const EmptyBody = Type.Object({}, { additionalProperties: false })
