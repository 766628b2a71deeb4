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
import { deadLetterStates } from '../../dead-letters/lifecycle.js'
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

const LetterState = Type.Union(deadLetterStates.map((state) => Type.Literal(state)), {
  description: 'dead: not redriven; redriven: written back to its retry lane, outcome pending; delivered: the redriven delivery succeeded; dead-again: it failed again (a new letter names this one in redriveOf); dropped: its endpoint was deleted meanwhile.'
})

export const DeadLetterSchema = shared('DeadLetter', Type.Object({
  id: Type.String({ description: 'topic:partition:offset.' }),
  topic: Type.String(),
  partition: Type.Integer({ minimum: 0 }),
  offset: Type.String({ pattern: '^\\d+$' }),
  state: LetterState,
  stateAt: Type.Optional({ ...isoTime, description: 'Since when it is in this state (absent while dead).' }),
  redriveId: Type.Optional(Type.String({ description: 'The last redrive of it.' })),
  redrivenAt: Type.Optional(isoTime),
  redrivenBy: Type.Optional(Type.String({ description: 'admin-api:<token id> or cli:<user>@<host>.' })),
  redrives: Type.Optional(Type.Integer({ minimum: 1, description: 'How many times it was redriven.' })),
  redriveOf: Type.Optional(Type.String({ description: 'This letter was written when a redriven delivery failed again: the id of the letter it was redriven from.' })),
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

const counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }))

export const DeadLetterPageSchema = shared('DeadLetterPage', Type.Object({
  items: Type.Array(ref('DeadLetter')),
  nextCursor: Type.Optional(Type.String({ description: 'Pass as cursor for the next page; absent on the last page.' })),
  total: Type.Integer({ minimum: 0, description: 'Letters matching the filters, all pages together.' }),
  countByReason: { ...counts, description: 'The matching letters per dead-letter reason, all pages together.' },
  countByState: { ...counts, description: 'The matching letters per state, all pages together.' }
}, { additionalProperties: false }))

export const RedriveResultSchema = shared('RedriveResult', Type.Object({
  dryRun: Type.Boolean(),
  redriveId: Type.Optional(Type.String({ description: 'Recorded with each letter it redrove (absent in a dry run).' })),
  scanned: Type.Optional(Type.Integer({ minimum: 0, description: 'Dead letters read (all tenants\'): operator tokens only.' })),
  matched: Type.Integer({ minimum: 0 }),
  redriven: Type.Optional(Type.Integer({ minimum: 0, description: 'Written back to the retry lane. Absent in a dry run.' })),
  wouldRedrive: Type.Optional(Type.Integer({ minimum: 0, description: 'Dry run only: would be written back; nothing was.' })),
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
export const instant = (description: string): TSchema => Type.Union([instantText(description), Type.Integer({ minimum: 0, description: 'Epoch milliseconds.' })], {
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
  state: Type.Optional(Type.Array(LetterState, { minItems: 1, maxItems: deadLetterStates.length, description: 'Only letters in these states (repeat to give several).' })),
  from: Type.Optional(instantText(fromDescription)),
  to: Type.Optional(instantText(toDescription)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: apiLimits.pageSizeMax, default: apiLimits.pageSizeDefault })),
  cursor: Type.Optional(Type.String({
    minLength: 1,
    maxLength: apiLimits.cursorMaxLength,
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'Opaque (base64url text): nextCursor of the previous page, passed back unchanged, with the same filters. Any other value answers 400 WHD_ERR_VALIDATION with field cursor.'
  }))
}, { additionalProperties: false })

const oneOrMany = (schema: TSchema): TSchema => Type.Union([filterValue, schema], { description: schema.description })

export const RedriveBody = Type.Object({
  tenantId: Type.Optional({ ...TenantId, description: 'The scope: this tenant\'s endpoints\' letters. A tenant token may only name its own (else 403).' }),
  all: Type.Optional(Type.Boolean({ description: 'The scope: every letter the token may see (an operator: every tenant\'s). Required when neither tenantId nor subscriptionId is given.' })),
  again: Type.Optional(Type.Boolean({ default: false, description: 'Redrive letters redriven before as well (their state is not dead); by default they are skipped as already-redriven.' })),
  subscriptionId: Type.Optional(oneOrMany(deadLetterFilters.subscriptionId)),
  accountId: Type.Optional(oneOrMany(deadLetterFilters.accountId)),
  reason: Type.Optional(oneOrMany(deadLetterFilters.reason)),
  sourceTopic: Type.Optional(oneOrMany(deadLetterFilters.sourceTopic)),
  from: Type.Optional(instant(fromDescription)),
  to: Type.Optional(instant(toDescription)),
  dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Count what would be redriven (wouldRedrive); write nothing.' }))
}, { additionalProperties: false, description: 'A scope is required: subscriptionId, tenantId, or all: true (else 400 WHD_ERR_VALIDATION with field all). All criteria given must hold; a list matches any of its values. With a tenant token only the tenant\'s own subscriptions\' letters are considered.' })

export const RotateSecretBody = Type.Object({
  graceSeconds: Type.Optional({ ...GraceSeconds, default: subscriptionLimits.graceSecondsDefault, description: 'How long the previous secrets keep signing alongside the new one (0 = stop at once; at most 7 days).' })
}, { additionalProperties: false })

export const DisableBody = Type.Object({
  reason: Type.Optional({ ...Reason, description: 'Kept as disabledReason; default "disabled through the admin API".' })
}, { additionalProperties: false })

/** Actions without parameters take no body or `{}`. */
export const EmptyBody = Type.Object({}, { additionalProperties: false })
