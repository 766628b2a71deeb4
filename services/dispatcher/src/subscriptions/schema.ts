// The subscription (webhook endpoint) schema, written once (DESIGN §6). It is
// JSON Schema (TypeBox builds it), so every entry point uses the same text:
//
//   - the admin API validates request bodies with it (fastify's Ajv) and
//     publishes it in its OpenAPI document (@fastify/swagger) unchanged;
//   - the store checks every create, update and import against it
//     (memory-store.ts), and every record it reads from the topic
//     (record.ts);
//   - the subscriptions file is checked against it (subscriptions-file.ts);
//   - the TypeScript types of those inputs are `Static<>` of it.
//
// Relations JSON Schema says badly (a client certificate needs its key, and
// the other way round) are the one function {@link tlsPairProblem}, called
// by the same entry points.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { ValueErrorType } from '@sinclair/typebox/errors'
import { Value } from '@sinclair/typebox/value'

/**
 * Every bound of a subscription, in one place. Where the five former copies
 * disagreed, the stricter value was kept; the README's "Subscription limits"
 * table lists them.
 */
export const subscriptionLimits = Object.freeze({
  idMaxLength: 128,
  tenantIdMaxLength: 128,
  urlMaxLength: 2048,
  eventTypesMax: 50,
  eventTypeMaxLength: 128,
  descriptionMaxLength: 500,
  reasonMaxLength: 200,
  maxInFlightMax: 10_000,
  rateLimitPerSecondMax: 100_000,
  /** One delivery per 1,000 s at the slowest: below that a limit is a pause, and there is one for that. */
  rateLimitPerSecondMin: 0.001,
  /** Per PEM field; a request body is at most 64 KiB anyway. */
  pemMaxLength: 32 * 1024,
  /** Longest rotation grace period: 7 days. */
  graceSecondsMax: 7 * 24 * 3600,
  graceSecondsDefault: 24 * 3600,
  /** Signing secrets kept at most; a rotation beyond drops the oldest. */
  activeSecretsMax: 10
})

const L = subscriptionLimits

/** Tenant ids: the one rule for the admin API, `ADMIN_TOKENS`, the store, records and the subscriptions file. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
/** Subscription (endpoint) ids; a path id that does not match cannot exist. */
export const ENDPOINT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
/** Exact names (`transaction.posted`), prefixes (`transaction.*`) or `*`. */
export const EVENT_TYPE_PATTERN = /^(?:\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:\.\*)?)$/
/** An exact event type, as a list filter takes it. */
export const EXACT_EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/
const PEM_PATTERN = '-----BEGIN [A-Z0-9 ]+-----'
const SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]+={0,2}$'
// No control characters other than tab, newline and carriage return.
const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$'

export const TenantId = Type.String({ pattern: TENANT_ID_PATTERN.source, maxLength: L.tenantIdMaxLength, description: 'Letters, digits, `.`, `_`, `-`; starts with a letter or digit; at most 128.' })
export const EndpointId = Type.String({ pattern: ENDPOINT_ID_PATTERN.source, maxLength: L.idMaxLength })
export const EventType = Type.String({ minLength: 1, maxLength: L.eventTypeMaxLength, pattern: EVENT_TYPE_PATTERN.source, description: 'An event type (`transaction.posted`), a prefix (`transaction.*`) or `*`.' })
export const ExactEventType = Type.String({ minLength: 1, maxLength: L.eventTypeMaxLength, pattern: EXACT_EVENT_TYPE_PATTERN.source })
export const EventTypes = Type.Array(EventType, { minItems: 1, maxItems: L.eventTypesMax, uniqueItems: true })
/** The shape of a URL; the scheme, host and SSRF rules are checked by `checkEndpointUrl`. */
export const EndpointUrl = Type.String({ minLength: 1, maxLength: L.urlMaxLength, pattern: '^\\S+$', description: 'https:// URL of the receiver; private, loopback and other special addresses are refused (SSRF).' })
export const Description = Type.String({ maxLength: L.descriptionMaxLength, pattern: NO_CONTROL_CHARACTERS })
export const Reason = Type.String({ minLength: 1, maxLength: L.reasonMaxLength, pattern: NO_CONTROL_CHARACTERS })
export const MaxInFlight = Type.Integer({ minimum: 1, maximum: L.maxInFlightMax, description: 'Deliveries in flight to this endpoint at most; lowers ENDPOINT_MAX_IN_FLIGHT, never raises it.' })
export const RateLimitPerSecond = Type.Number({ minimum: L.rateLimitPerSecondMin, maximum: L.rateLimitPerSecondMax, description: 'Deliveries per second to this endpoint at most, from 0.001 (one per 1,000 s) to 100,000.' })
export const Pem = Type.String({ maxLength: L.pemMaxLength, pattern: PEM_PATTERN, description: 'PEM text (-----BEGIN …-----).' })
export const Secret = Type.String({ pattern: SECRET_PATTERN, maxLength: 256 })
export const GraceSeconds = Type.Integer({ minimum: 0, maximum: L.graceSecondsMax })
export const Revision = Type.Integer({ minimum: 1, description: 'Grows by one with every change of the endpoint; the ETag is its quoted value.' })
/** ISO-8601 time as records and views carry it. */
export const Instant = Type.String({ minLength: 1, maxLength: 64 })

/** mTLS material of an endpoint. `clientCertPem` and `clientKeyPem` go together. */
export const Tls = Type.Object({
  clientCertPem: Type.Optional(Pem),
  clientKeyPem: Type.Optional(Pem),
  caPem: Type.Optional(Pem)
}, { additionalProperties: false })
export type Tls = Static<typeof Tls>

/** The fields a caller sets on an endpoint. */
const writable = {
  url: EndpointUrl,
  eventTypes: EventTypes,
  description: Type.Optional(Description),
  maxInFlight: Type.Optional(MaxInFlight),
  rateLimitPerSecond: Type.Optional(RateLimitPerSecond),
  tls: Type.Optional(Tls)
}

/** The fields a patch may clear with `null`. */
export const clearableFields = ['description', 'maxInFlight', 'rateLimitPerSecond', 'tls'] as const

/** `POST /v1/endpoints`; `tenantId` defaults to the caller's tenant. */
export const EndpointCreate = Type.Object({ tenantId: Type.Optional(TenantId), ...writable }, { additionalProperties: false })
export type EndpointCreate = Static<typeof EndpointCreate>

/** A create as the store takes it: the tenant is known. */
export const SubscriptionInput = Type.Object({ tenantId: TenantId, ...writable }, { additionalProperties: false })
export type SubscriptionInput = Static<typeof SubscriptionInput>

/** `PATCH /v1/endpoints/{id}` (JSON merge patch): the fields given change, `null` clears an optional one. */
export const EndpointPatch = Type.Object({
  url: Type.Optional(EndpointUrl),
  eventTypes: Type.Optional(EventTypes),
  description: Type.Optional(Type.Union([Description, Type.Null()])),
  maxInFlight: Type.Optional(Type.Union([MaxInFlight, Type.Null()])),
  rateLimitPerSecond: Type.Optional(Type.Union([RateLimitPerSecond, Type.Null()])),
  tls: Type.Optional(Type.Union([Tls, Type.Null()]))
}, { additionalProperties: false, minProperties: 1 })
export type EndpointPatch = Static<typeof EndpointPatch>

/** One entry of the subscriptions file: an endpoint with its id and secrets as given. */
export const SubscriptionFileEntry = Type.Object({
  id: EndpointId,
  tenantId: TenantId,
  ...writable,
  /** Newest first; all of them sign. */
  secrets: Type.Optional(Type.Array(Secret, { minItems: 1, maxItems: L.activeSecretsMax, uniqueItems: true })),
  /** One secret: the same as `secrets: [secret]`. */
  secret: Type.Optional(Secret),
  enabled: Type.Optional(Type.Boolean()),
  paused: Type.Optional(Type.Boolean()),
  disabledReason: Type.Optional(Reason)
}, { additionalProperties: false })
export type SubscriptionFileEntry = Static<typeof SubscriptionFileEntry>

/** The subscriptions file: `{ "subscriptions": [ … ] }`. */
export const SubscriptionsFile = Type.Object({ subscriptions: Type.Array(SubscriptionFileEntry) })

/** An encrypted secret in a record (crypto.ts). */
export const SecretEnvelopeSchema = Type.Object({ kid: Type.String(), iv: Type.String(), tag: Type.String(), data: Type.String() })

export const SUBSCRIPTION_RECORD_VERSION = 1

/**
 * The value of a record on the subscriptions topic (record.ts). Fields it
 * does not name are ignored, so a newer writer can add some.
 */
export const SubscriptionRecordValue = Type.Object({
  version: Type.Literal(SUBSCRIPTION_RECORD_VERSION),
  id: EndpointId,
  tenantId: TenantId,
  /** Absent in records written before revisions existed: read as 1. */
  revision: Type.Optional(Revision),
  url: EndpointUrl,
  eventTypes: EventTypes,
  enabled: Type.Boolean(),
  paused: Type.Optional(Type.Boolean()),
  disabledReason: Type.Optional(Reason),
  maxInFlight: Type.Optional(MaxInFlight),
  rateLimitPerSecond: Type.Optional(RateLimitPerSecond),
  description: Type.Optional(Description),
  createdAt: Instant,
  updatedAt: Instant,
  secrets: Type.Array(Type.Object({
    encrypted: SecretEnvelopeSchema,
    createdAt: Instant,
    expiresAt: Type.Optional(Instant)
  }), { minItems: 1 }),
  tls: Type.Optional(Type.Object({
    clientCertPem: Type.Optional(Pem),
    clientKeyPem: Type.Optional(SecretEnvelopeSchema),
    caPem: Type.Optional(Pem)
  })),
  /** HMAC-SHA256 of the rest of the record (record.ts); absent only in records written before MACs existed. */
  mac: Type.Optional(Type.Object({ kid: Type.String(), value: Type.String() }))
})
export type SubscriptionRecordValue = Static<typeof SubscriptionRecordValue>

/** One problem with a value: the field at fault (`eventTypes[1]`, `tls.caPem`; `''` for the whole value) and what is wrong. */
export interface SchemaProblem {
  field: string
  reason: string
}

/** A JSON pointer (`/eventTypes/1/x`) as a field name (`eventTypes[1].x`). */
export function fieldOf (pointer: string): string {
  return pointer.split('/').slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((field, part) => (/^\d+$/.test(part) ? `${field}[${part}]` : field === '' ? part : `${field}.${part}`), '')
}

/** The field an extra name adds to a field: `tls` + `pfx` = `tls.pfx`. */
export const childField = (field: string, name: string | number): string =>
  typeof name === 'number' ? `${field}[${name}]` : field === '' ? name : `${field}.${name}`

const patternHints: ReadonlyMap<string, string> = new Map([
  [TENANT_ID_PATTERN.source, 'must be a tenant id (letters, digits, ".", "_", "-"; starting with a letter or digit; at most 128): the admin API and ADMIN_TOKENS address no other'],
  [ENDPOINT_ID_PATTERN.source, 'must be an endpoint id (letters, digits, ".", "_", ":", "-"; starting with a letter or digit; at most 128)'],
  [EVENT_TYPE_PATTERN.source, 'must be an event type ("transaction.posted"), a prefix ("transaction.*") or "*"'],
  [EXACT_EVENT_TYPE_PATTERN.source, 'must be an event type, e.g. transaction.posted'],
  [PEM_PATTERN, 'must be PEM text (-----BEGIN …-----)'],
  [SECRET_PATTERN, 'must be a whsec_… secret'],
  [NO_CONTROL_CHARACTERS, 'must not contain control characters'],
  ['^\\S+$', 'must not contain whitespace']
])

interface SchemaNode {
  type?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  pattern?: string
  const?: unknown
  anyOf?: SchemaNode[]
}

const typeWords: Record<string, string> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', object: 'an object', array: 'an array', null: 'null'
}

function range (schema: SchemaNode): string {
  const kind = schema.type === 'integer' ? 'an integer' : 'a number'
  if (schema.exclusiveMinimum !== undefined) return `must be ${kind} greater than ${schema.exclusiveMinimum}${schema.maximum === undefined ? '' : ` and at most ${schema.maximum}`}`
  if (schema.minimum !== undefined && schema.maximum !== undefined) return `must be ${kind} from ${schema.minimum} to ${schema.maximum}`
  return schema.minimum !== undefined ? `must be ${kind} of at least ${schema.minimum}` : `must be ${kind} of at most ${schema.maximum ?? ''}`
}

/**
 * What a failed JSON Schema keyword means, in words: one wording for the
 * admin API (Ajv's keywords) and the store, records and file (TypeBox's).
 * `schema` is the schema of the value at fault.
 */
export function reasonFor (keyword: string, schema: SchemaNode): string {
  switch (keyword) {
    case 'required': return 'is required'
    case 'additionalProperties': return 'is not a field that can be set here'
    case 'type': return `must be ${typeWords[schema.type ?? ''] ?? schema.type ?? 'something else'}`
    case 'anyOf': return `must be ${(schema.anyOf ?? []).map((branch) => typeWords[branch.type ?? ''] ?? 'something else').join(' or ')}`
    case 'const': return `must be ${JSON.stringify(schema.const)}`
    case 'minLength': return schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength ?? 0} characters`
    case 'maxLength': return `must be at most ${schema.maxLength ?? 0} characters`
    case 'pattern': return patternHints.get(schema.pattern ?? '') ?? `must match ${schema.pattern ?? ''}`
    case 'minItems': return `must list at least ${schema.minItems ?? 0}`
    case 'maxItems': return `must list at most ${schema.maxItems ?? 0}`
    case 'uniqueItems': return 'repeats an earlier entry'
    case 'minimum': case 'maximum': case 'exclusiveMinimum': return range(schema)
    case 'minProperties': return 'changes nothing: give at least one field'
    default: return `is not valid (${keyword})`
  }
}

const keywordOf: Partial<Record<ValueErrorType, string>> = {
  [ValueErrorType.ObjectRequiredProperty]: 'required',
  [ValueErrorType.ObjectAdditionalProperties]: 'additionalProperties',
  [ValueErrorType.ObjectMinProperties]: 'minProperties',
  [ValueErrorType.String]: 'type',
  [ValueErrorType.Number]: 'type',
  [ValueErrorType.Integer]: 'type',
  [ValueErrorType.Boolean]: 'type',
  [ValueErrorType.Object]: 'type',
  [ValueErrorType.Array]: 'type',
  [ValueErrorType.Null]: 'type',
  [ValueErrorType.Union]: 'anyOf',
  [ValueErrorType.Literal]: 'const',
  [ValueErrorType.StringMinLength]: 'minLength',
  [ValueErrorType.StringMaxLength]: 'maxLength',
  [ValueErrorType.StringPattern]: 'pattern',
  [ValueErrorType.ArrayMinItems]: 'minItems',
  [ValueErrorType.ArrayMaxItems]: 'maxItems',
  [ValueErrorType.ArrayUniqueItems]: 'uniqueItems',
  [ValueErrorType.IntegerMinimum]: 'minimum',
  [ValueErrorType.NumberMinimum]: 'minimum',
  [ValueErrorType.IntegerMaximum]: 'maximum',
  [ValueErrorType.NumberMaximum]: 'maximum',
  [ValueErrorType.IntegerExclusiveMinimum]: 'exclusiveMinimum',
  [ValueErrorType.NumberExclusiveMinimum]: 'exclusiveMinimum'
}

/** Index of the first entry that repeats an earlier one. */
export function firstRepeat (values: readonly unknown[]): number {
  const seen = new Set<string>()
  return values.findIndex((value) => {
    const key = JSON.stringify(value)
    if (seen.has(key)) return true
    seen.add(key)
    return false
  })
}

/**
 * The first problem of `value` against `schema`, or undefined when it
 * conforms. A PEM, secret or client key is never quoted back: the reason
 * names the rule, not the value.
 */
export function firstProblem (schema: TSchema, value: unknown): SchemaProblem | undefined {
  const error = Value.Errors(schema, value).First()
  if (error === undefined) return undefined
  const keyword = keywordOf[error.type] ?? ValueErrorType[error.type]
  let field = fieldOf(error.path)
  if (keyword === 'uniqueItems' && Array.isArray(error.value)) field = childField(field, firstRepeat(error.value))
  return { field, reason: reasonFor(keyword, error.schema as SchemaNode) }
}

/**
 * The relation between the TLS fields: the client certificate and its key
 * go together. Returns the field that is missing, or undefined.
 */
export function tlsPairProblem (tls: Tls | null | undefined, prefix = 'tls'): SchemaProblem | undefined {
  if (tls === null || tls === undefined) return undefined
  if ((tls.clientCertPem === undefined) === (tls.clientKeyPem === undefined)) return undefined
  return { field: `${prefix}.${tls.clientCertPem === undefined ? 'clientCertPem' : 'clientKeyPem'}`, reason: 'clientCertPem and clientKeyPem go together' }
}
