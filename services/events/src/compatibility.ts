/**
 * The few Confluent-compatible registry calls this project makes directly:
 * subject compatibility config, compatibility tests, registration and
 * lookup. @kafkajs/confluent-schema-registry covers decoding by id, but its
 * `register()` refuses subjects whose compatibility level differs from the
 * one passed in and its errors cannot tell "connection refused" from
 * HTTP 400, so registration goes through here.
 *
 * https://docs.confluent.io/platform/current/schema-registry/develop/api.html
 */
import { RegistryRequestError, RegistryUnavailableError, SchemaIncompatibleError } from './errors.js'

export type CompatibilityLevel =
  | 'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE'

export interface RegistryHttpOptions {
  /** Base URL of the Confluent-compatible API, e.g. http://127.0.0.1:18081/apis/ccompat/v7 */
  url: string
  /**
   * Deadline for each HTTP request.
   * @defaultValue 10000
   */
  timeoutMs?: number
}

export interface SchemaVersion {
  id: number
  version: number
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
const DEFAULT_TIMEOUT_MS = 10_000
/** Confluent error codes: subject not found, version not found, schema not found. */
const NOT_FOUND_CODES = new Set([40401, 40402, 40403])

interface RegistryResponse {
  status: number
  body: unknown
}

async function call (options: RegistryHttpOptions, method: string, path: string, body?: unknown): Promise<RegistryResponse> {
  const url = `${options.url.replace(/\/+$/, '')}${path}`
  let response: Response
  let text: string
  try {
    response = await fetch(url, {
      method,
      headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    })
    text = await response.text()
  } catch (err) {
    throw new RegistryUnavailableError(`schema registry unreachable: ${method} ${url}: ${networkReason(err)}`, { cause: err })
  }
  let parsed: unknown = text
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the text for the message.
  }
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    throw new RegistryUnavailableError(`schema registry failed: ${method} ${url} → HTTP ${response.status}${detail(parsed)}`, { status: response.status })
  }
  return { status: response.status, body: parsed }
}

function networkReason (err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause as { code?: string, message?: string } | undefined
    return cause?.code ?? cause?.message ?? err.message
  }
  return String(err)
}

function errorCode (body: unknown): number | undefined {
  const code = (body as { error_code?: unknown } | undefined)?.error_code
  return typeof code === 'number' ? code : undefined
}

function detail (body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message
  if (typeof message === 'string') return `: ${message}`
  return typeof body === 'string' && body !== '' ? `: ${body.slice(0, 200)}` : ''
}

/** A Confluent "not found" answer (JSON with a 404xx code), not a wrong URL. */
function isNotFound (response: RegistryResponse): boolean {
  const code = errorCode(response.body)
  return response.status === 404 && code !== undefined && NOT_FOUND_CODES.has(code)
}

function refuse (method: string, path: string, response: RegistryResponse): never {
  const registryErrorCode = errorCode(response.body)
  const hint = response.status === 404 && registryErrorCode === undefined
    ? ' (no Confluent error code: is the URL the Confluent-compatible API base, e.g. …/apis/ccompat/v7?)'
    : ''
  throw new RegistryRequestError(
    `schema registry refused ${method} ${path}: HTTP ${response.status}${detail(response.body)}${hint}`,
    { status: response.status, ...(registryErrorCode === undefined ? {} : { registryErrorCode }) }
  )
}

const subjectPath = (subject: string): string => `/subjects/${encodeURIComponent(subject)}`

/** PUT /config/{subject}: the subject's compatibility level. */
export async function setSubjectCompatibility (options: RegistryHttpOptions, subject: string, level: CompatibilityLevel): Promise<void> {
  const path = `/config/${encodeURIComponent(subject)}`
  const response = await call(options, 'PUT', path, { compatibility: level })
  if (response.status !== 200) refuse('PUT', path, response)
}

/** GET /config/{subject}: the subject's own level, undefined when it has none. */
export async function getSubjectCompatibility (options: RegistryHttpOptions, subject: string): Promise<CompatibilityLevel | undefined> {
  const path = `/config/${encodeURIComponent(subject)}`
  const response = await call(options, 'GET', path)
  if (isNotFound(response)) return undefined
  if (response.status !== 200) refuse('GET', path, response)
  const body = response.body as { compatibilityLevel?: CompatibilityLevel, compatibility?: CompatibilityLevel }
  return body.compatibilityLevel ?? body.compatibility
}

/** GET /subjects/{subject}/versions/latest; undefined when the subject has none. */
export async function getLatestVersion (options: RegistryHttpOptions, subject: string): Promise<SchemaVersion | undefined> {
  const path = `${subjectPath(subject)}/versions/latest`
  const response = await call(options, 'GET', path)
  if (isNotFound(response)) return undefined
  if (response.status !== 200) refuse('GET', path, response)
  const { id, version } = response.body as SchemaVersion
  return { id, version }
}

export interface CompatibilityResult {
  compatible: boolean
  /** The registry's explanation, when it gives one (Confluent does with verbose). */
  messages: string[]
}

/**
 * POST /compatibility/subjects/{subject}/versions/latest: would `schema`
 * pass the subject's compatibility level? True when there is nothing to
 * compare with.
 */
export async function testCompatibility (options: RegistryHttpOptions, subject: string, schema: string): Promise<CompatibilityResult> {
  const path = `/compatibility${subjectPath(subject)}/versions/latest?verbose=true`
  const response = await call(options, 'POST', path, { schema })
  if (isNotFound(response)) return { compatible: true, messages: [] }
  if (response.status !== 200) refuse('POST', path, response)
  const body = response.body as { is_compatible?: unknown, messages?: unknown }
  const messages = Array.isArray(body.messages) ? body.messages.map(String) : []
  return { compatible: body.is_compatible === true, messages }
}

/**
 * POST /subjects/{subject}/versions: registers `schema` (or finds it when
 * already registered) and returns its global id. Throws
 * SchemaIncompatibleError when the registry enforces compatibility and the
 * schema fails it (HTTP 409).
 */
export async function registerSchema (options: RegistryHttpOptions, subject: string, schema: string): Promise<number> {
  const path = `${subjectPath(subject)}/versions`
  const response = await call(options, 'POST', path, { schema })
  if (response.status === 409) {
    const message = (response.body as { message?: unknown } | undefined)?.message
    throw new SchemaIncompatibleError(subject, typeof message === 'string' ? [message] : [])
  }
  if (response.status !== 200) refuse('POST', path, response)
  return (response.body as { id: number }).id
}

/** POST /subjects/{subject}: the id and version of `schema` if registered there. */
export async function lookupSchema (options: RegistryHttpOptions, subject: string, schema: string): Promise<SchemaVersion | undefined> {
  const path = subjectPath(subject)
  const response = await call(options, 'POST', path, { schema })
  if (isNotFound(response)) return undefined
  if (response.status !== 200) refuse('POST', path, response)
  const { id, version } = response.body as SchemaVersion
  return { id, version }
}

/**
 * GET /schemas/ids/{id}: whether the registry has this schema id. False only
 * on a Confluent "not found" answer; a bare 404 (wrong base URL, a proxy)
 * throws RegistryRequestError.
 */
export async function schemaIdExists (options: RegistryHttpOptions, id: number): Promise<boolean> {
  const path = `/schemas/ids/${id}`
  const response = await call(options, 'GET', path)
  if (isNotFound(response)) return false
  if (response.status !== 200) refuse('GET', path, response)
  return true
}

/** Deletes a subject for good (soft, then permanent). Missing subjects are fine. */
export async function deleteSubject (options: RegistryHttpOptions, subject: string): Promise<void> {
  for (const query of ['', '?permanent=true']) {
    const path = `${subjectPath(subject)}${query}`
    const response = await call(options, 'DELETE', path)
    if (response.status !== 200 && !isNotFound(response)) refuse('DELETE', path, response)
  }
}

export interface EnsureSchemaResult {
  subject: string
  id: number
  version: number
  /** `registered`: a new version; `unchanged`: this schema was already there. */
  outcome: 'registered' | 'unchanged'
  /** The latest version before this call, if any. */
  previousVersion: number | undefined
}

/**
 * Sets the subject's compatibility level, tests `schema` against the latest
 * version, then registers it. Throws SchemaIncompatibleError, and registers
 * nothing, when the test fails.
 */
export async function ensureSchema (
  options: RegistryHttpOptions,
  subject: string,
  schema: string,
  { compatibility = 'BACKWARD' }: { compatibility?: CompatibilityLevel } = {}
): Promise<EnsureSchemaResult> {
  await setSubjectCompatibility(options, subject, compatibility)
  const latest = await getLatestVersion(options, subject)
  const existing = await lookupSchema(options, subject, schema)
  if (existing !== undefined) {
    return { subject, ...existing, outcome: 'unchanged', previousVersion: latest?.version }
  }
  if (latest !== undefined) {
    const result = await testCompatibility(options, subject, schema)
    if (!result.compatible) throw new SchemaIncompatibleError(subject, result.messages)
  }
  const id = await registerSchema(options, subject, schema)
  const registered = await lookupSchema(options, subject, schema)
  return { subject, id, version: registered?.version ?? (latest?.version ?? 0) + 1, outcome: 'registered', previousVersion: latest?.version }
}
