// Validation of every admin API input: pure functions from the parsed JSON
// body or the query string to typed requests. Unknown fields are refused, and
// every error names the field at fault.
import type { RedriveFilter } from '../../dead-letters/filter.js'
import { parseInstant } from '../../dead-letters/instant.js'
import type { SubscriptionInput, SubscriptionPatch, SubscriptionState } from '../../subscriptions/store.js'
import { TENANT_ID_PATTERN } from '../../admin-tokens.js'
import { ApiError, validationError } from './errors.js'

/** Bounds the OpenAPI document states too (it reads them from here). */
export const limits = Object.freeze({
  urlMaxLength: 2048,
  eventTypesMax: 50,
  eventTypeMaxLength: 128,
  descriptionMaxLength: 500,
  maxInFlightMax: 10_000,
  rateLimitPerSecondMax: 100_000,
  pemMaxLength: 32_768,
  pageSizeMax: 200,
  pageSizeDefault: 50,
  cursorMaxLength: 512,
  graceSecondsMax: 7 * 24 * 3600,
  graceSecondsDefault: 24 * 3600,
  filterValuesMax: 100,
  filterValueMaxLength: 256,
  reasonMaxLength: 200
})

/** Exact names (`transaction.posted`), prefixes (`transaction.*`) or `*`. */
export const EVENT_TYPE_PATTERN = /^(?:\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(?:\.\*)?)$/
/** An exact event type, as a list filter takes it. */
export const EXACT_EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/
/** Endpoint ids in paths; anything else cannot exist and answers 404. */
export const ENDPOINT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
const CURSOR_PATTERN = /^[A-Za-z0-9._~=+/-]+$/
const PEM_PATTERN = /-----BEGIN [A-Z0-9 ]+-----/
// Control characters other than tab, newline and carriage return.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

type JsonObject = Record<string, unknown>

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The body must be a JSON object holding only `allowed` fields. */
function bodyObject (body: unknown, allowed: readonly string[]): JsonObject {
  if (!isObject(body)) throw new ApiError('WHD_ERR_BAD_REQUEST', 'the request body must be a JSON object')
  rejectUnknown(body, allowed, '')
  return body
}

function rejectUnknown (object: JsonObject, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw validationError(`${prefix}${key}`, `unknown field (allowed: ${allowed.join(', ')})`)
  }
}

function string (value: unknown, field: string, options: { min?: number, max: number, pattern?: RegExp, patternHint?: string }): string {
  if (typeof value !== 'string') throw validationError(field, 'must be a string')
  const min = options.min ?? 1
  if (value.length < min) throw validationError(field, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
  if (value.length > options.max) throw validationError(field, `must be at most ${options.max} characters`)
  if (options.pattern !== undefined && !options.pattern.test(value)) throw validationError(field, options.patternHint ?? `must match ${options.pattern.source}`)
  return value
}

function integer (value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw validationError(field, 'must be an integer')
  if (value < min || value > max) throw validationError(field, `must be between ${min} and ${max}`)
  return value
}

function boolean (value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw validationError(field, 'must be true or false')
  return value
}

const urlField = (value: unknown): string => {
  const url = string(value, 'url', { max: limits.urlMaxLength })
  if (/\s/.test(url)) throw new ApiError('WHD_ERR_URL_INVALID', 'url: must not contain whitespace', { field: 'url' })
  return url
}

function eventTypes (value: unknown): string[] {
  const field = 'eventTypes'
  if (!Array.isArray(value)) throw validationError(field, 'must be an array of event types')
  if (value.length === 0) throw validationError(field, 'must list at least one event type')
  if (value.length > limits.eventTypesMax) throw validationError(field, `must list at most ${limits.eventTypesMax} event types`)
  const seen = new Set<string>()
  return value.map((entry: unknown, index) => {
    const type = string(entry, `${field}[${index}]`, {
      max: limits.eventTypeMaxLength,
      pattern: EVENT_TYPE_PATTERN,
      patternHint: 'must be an event type (transaction.posted), a prefix (transaction.*) or *'
    })
    if (seen.has(type)) throw validationError(`${field}[${index}]`, `duplicate event type "${type}"`)
    seen.add(type)
    return type
  })
}

const description = (value: unknown): string => {
  const text = string(value, 'description', { min: 0, max: limits.descriptionMaxLength })
  if (CONTROL_CHARACTERS.test(text)) throw validationError('description', 'must not contain control characters')
  return text
}

const rateLimit = (value: unknown): number => {
  const field = 'rateLimitPerSecond'
  if (typeof value !== 'number' || !Number.isFinite(value)) throw validationError(field, 'must be a number')
  if (value <= 0 || value > limits.rateLimitPerSecondMax) throw validationError(field, `must be greater than 0 and at most ${limits.rateLimitPerSecondMax}`)
  return value
}

const tlsFields = ['clientCertPem', 'clientKeyPem', 'caPem'] as const

function tls (value: unknown): NonNullable<SubscriptionInput['tls']> {
  if (!isObject(value)) throw validationError('tls', 'must be an object')
  rejectUnknown(value, tlsFields, 'tls.')
  const result: NonNullable<SubscriptionInput['tls']> = {}
  for (const name of tlsFields) {
    if (value[name] === undefined) continue
    // The message never echoes the value: a client key is a secret.
    result[name] = string(value[name], `tls.${name}`, { max: limits.pemMaxLength, pattern: PEM_PATTERN, patternHint: 'must be PEM (-----BEGIN …-----)' })
  }
  if ((result.clientCertPem === undefined) !== (result.clientKeyPem === undefined)) {
    throw validationError(result.clientCertPem === undefined ? 'tls.clientCertPem' : 'tls.clientKeyPem', 'clientCertPem and clientKeyPem go together')
  }
  return result
}

const createFields = ['tenantId', 'url', 'eventTypes', 'description', 'maxInFlight', 'rateLimitPerSecond', 'tls'] as const
const patchFields = ['url', 'eventTypes', 'description', 'maxInFlight', 'rateLimitPerSecond', 'tls'] as const

/** `POST /v1/endpoints`; `tenantId` is checked against the caller's scope by the handler. */
export type CreateEndpointRequest = Omit<SubscriptionInput, 'tenantId'> & { tenantId?: string }

export function parseCreateEndpoint (body: unknown): CreateEndpointRequest {
  const object = bodyObject(body, createFields)
  if (object.url === undefined) throw validationError('url', 'is required')
  if (object.eventTypes === undefined) throw validationError('eventTypes', 'is required')
  const request: CreateEndpointRequest = { url: urlField(object.url), eventTypes: eventTypes(object.eventTypes) }
  if (object.tenantId !== undefined) request.tenantId = tenantId(object.tenantId, 'tenantId')
  Object.assign(request, optionalEndpointFields(object))
  return request
}

/**
 * `PATCH /v1/endpoints/{id}`. `null` clears an optional field (the store's
 * rule); {@link SubscriptionPatch} does not spell that out yet.
 */
export type PatchEndpointRequest = Omit<SubscriptionPatch, ClearableField> & { [K in ClearableField]?: SubscriptionPatch[K] | null }

export const clearableFields = ['description', 'maxInFlight', 'rateLimitPerSecond', 'tls'] as const
type ClearableField = (typeof clearableFields)[number]

/** `PATCH /v1/endpoints/{id}`: only the fields given change; at least one is required. */
export function parsePatchEndpoint (body: unknown): PatchEndpointRequest {
  const object = bodyObject(body, patchFields)
  if (Object.keys(object).length === 0) throw new ApiError('WHD_ERR_VALIDATION', `the patch changes nothing: give at least one of ${patchFields.join(', ')}`)
  const present = Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null))
  const patch: PatchEndpointRequest = optionalEndpointFields(present)
  for (const field of clearableFields) {
    if (object[field] === null) patch[field] = null
  }
  if (object.url !== undefined) patch.url = urlField(object.url)
  if (object.eventTypes !== undefined) patch.eventTypes = eventTypes(object.eventTypes)
  return patch
}

function optionalEndpointFields (object: JsonObject): SubscriptionPatch {
  const fields: SubscriptionPatch = {}
  if (object.description !== undefined) fields.description = description(object.description)
  if (object.maxInFlight !== undefined) fields.maxInFlight = integer(object.maxInFlight, 'maxInFlight', 1, limits.maxInFlightMax)
  if (object.rateLimitPerSecond !== undefined) fields.rateLimitPerSecond = rateLimit(object.rateLimitPerSecond)
  if (object.tls !== undefined) fields.tls = tls(object.tls)
  return fields
}

/** `POST /v1/endpoints/{id}/rotate-secret`: `{ graceSeconds? }`, or no body. */
export function parseRotateSecret (body: unknown): { graceSeconds: number } {
  if (body === undefined) return { graceSeconds: limits.graceSecondsDefault }
  const object = bodyObject(body, ['graceSeconds'])
  return {
    graceSeconds: object.graceSeconds === undefined
      ? limits.graceSecondsDefault
      : integer(object.graceSeconds, 'graceSeconds', 0, limits.graceSecondsMax)
  }
}

/** `POST /v1/endpoints/{id}/disable`: `{ reason? }`, or no body. */
export function parseDisable (body: unknown): { reason?: string } {
  if (body === undefined) return {}
  const object = bodyObject(body, ['reason'])
  if (object.reason === undefined) return {}
  const reason = string(object.reason, 'reason', { max: limits.reasonMaxLength })
  if (CONTROL_CHARACTERS.test(reason)) throw validationError('reason', 'must not contain control characters')
  return { reason }
}

/** Actions without parameters take no body or `{}`. */
export function parseEmptyBody (body: unknown): void {
  if (body !== undefined) bodyObject(body, [])
}

function tenantId (value: unknown, field: string): string {
  return string(value, field, { max: 128, pattern: TENANT_ID_PATTERN, patternHint: 'must be a tenant id (letters, digits, . _ -; at most 128)' })
}

/** A query string with each parameter at most once (unless listed as repeatable) and none unknown. */
function queryParams (query: URLSearchParams, allowed: readonly string[], repeatable: readonly string[] = []): Map<string, string[]> {
  const params = new Map<string, string[]>()
  for (const [name, value] of query) {
    if (!allowed.includes(name)) throw validationError(name, `unknown query parameter (allowed: ${allowed.join(', ')})`)
    const values = params.get(name) ?? []
    values.push(value)
    if (values.length > 1 && !repeatable.includes(name)) throw validationError(name, 'must be given at most once')
    if (values.length > limits.filterValuesMax) throw validationError(name, `must be given at most ${limits.filterValuesMax} times`)
    params.set(name, values)
  }
  return params
}

function pageSize (raw: string | undefined, field: string): number {
  if (raw === undefined) return limits.pageSizeDefault
  if (!/^\d{1,4}$/.test(raw)) throw validationError(field, `must be an integer between 1 and ${limits.pageSizeMax}`)
  return integer(Number(raw), field, 1, limits.pageSizeMax)
}

export interface ListEndpointsRequest {
  limit: number
  cursor?: string
  eventType?: string
  state?: SubscriptionState
  /** Operators only (the handler checks). */
  tenantId?: string
}

const states: readonly SubscriptionState[] = ['enabled', 'disabled', 'paused']

export function parseListEndpoints (query: URLSearchParams): ListEndpointsRequest {
  const params = queryParams(query, ['limit', 'cursor', 'eventType', 'state', 'tenantId'])
  const one = (name: string): string | undefined => params.get(name)?.[0]
  const request: ListEndpointsRequest = { limit: pageSize(one('limit'), 'limit') }
  const cursor = one('cursor')
  if (cursor !== undefined) request.cursor = string(cursor, 'cursor', { max: limits.cursorMaxLength, pattern: CURSOR_PATTERN, patternHint: 'must be a cursor returned as nextCursor' })
  const eventType = one('eventType')
  if (eventType !== undefined) request.eventType = string(eventType, 'eventType', { max: limits.eventTypeMaxLength, pattern: EXACT_EVENT_TYPE_PATTERN, patternHint: 'must be an event type, e.g. transaction.posted' })
  const state = one('state')
  if (state !== undefined) {
    if (!(states as readonly string[]).includes(state)) throw validationError('state', `must be one of ${states.join(', ')}`)
    request.state = state as SubscriptionState
  }
  const tenant = one('tenantId')
  if (tenant !== undefined) request.tenantId = tenantId(tenant, 'tenantId')
  return request
}

const filterFields = ['subscriptionId', 'accountId', 'reason', 'sourceTopic', 'from', 'to'] as const
const listFilterFields = ['subscriptionId', 'accountId', 'reason', 'sourceTopic'] as const
const filterKeys = {
  subscriptionId: 'subscriptionIds',
  accountId: 'accountIds',
  reason: 'reasons',
  sourceTopic: 'sourceTopics'
} as const

function instant (value: unknown, field: string): number {
  if (typeof value === 'number') return integer(value, field, 0, Number.MAX_SAFE_INTEGER)
  const text = string(value, field, { max: 64 })
  try {
    return parseInstant(text)
  } catch (err) {
    throw validationError(field, `${(err as Error).message} (ISO-8601 with a zone, a date, or epoch milliseconds)`)
  }
}

function checkRange (filter: RedriveFilter): void {
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) {
    throw validationError('to', 'must be after from')
  }
}

function filterValues (values: readonly unknown[], field: string, indexed: boolean): string[] {
  return values.map((value, index) => string(value, indexed ? `${field}[${index}]` : field, { max: limits.filterValueMaxLength }))
}

export interface ListDeadLettersRequest {
  filter: RedriveFilter
  limit: number
}

/** `GET /v1/dead-letters`: list filters may repeat (any of the values matches). */
export function parseListDeadLetters (query: URLSearchParams): ListDeadLettersRequest {
  const params = queryParams(query, [...filterFields, 'limit'], listFilterFields)
  const filter: RedriveFilter = {}
  for (const name of listFilterFields) {
    const values = params.get(name)
    if (values !== undefined) filter[filterKeys[name]] = filterValues(values, name, false)
  }
  const from = params.get('from')?.[0]
  if (from !== undefined) filter.from = instant(from, 'from')
  const to = params.get('to')?.[0]
  if (to !== undefined) filter.to = instant(to, 'to')
  checkRange(filter)
  return { filter, limit: pageSize(params.get('limit')?.[0], 'limit') }
}

export interface RedriveRequest {
  filter: RedriveFilter
  dryRun: boolean
}

/** `POST /v1/dead-letters/redrive`: the list filters (a string or an array each) plus `dryRun`. */
export function parseRedrive (body: unknown): RedriveRequest {
  const object = body === undefined ? {} : bodyObject(body, [...filterFields, 'dryRun'])
  const filter: RedriveFilter = {}
  for (const name of listFilterFields) {
    const value = object[name]
    if (value === undefined) continue
    const values = Array.isArray(value) ? value : [value]
    if (values.length === 0) throw validationError(name, 'must not be an empty list')
    if (values.length > limits.filterValuesMax) throw validationError(name, `must list at most ${limits.filterValuesMax} values`)
    filter[filterKeys[name]] = filterValues(values, name, Array.isArray(value))
  }
  if (object.from !== undefined) filter.from = instant(object.from, 'from')
  if (object.to !== undefined) filter.to = instant(object.to, 'to')
  checkRange(filter)
  return { filter, dryRun: object.dryRun === undefined ? false : boolean(object.dryRun, 'dryRun') }
}
