// The admin API's error responses: `{ "error": { "code", "message", "field"? } }`
// with a stable `WHD_ERR_*` code. Clients branch on the code, never on the
// message or the HTTP status alone.

/** Every code the admin API answers with, and its HTTP status. */
export const apiErrorStatus = Object.freeze({
  WHD_ERR_BAD_REQUEST: 400,
  WHD_ERR_VALIDATION: 400,
  WHD_ERR_URL_INVALID: 400,
  WHD_ERR_SSRF_BLOCKED: 400,
  WHD_ERR_REPLAY_RANGE: 400,
  WHD_ERR_REPLAY_RETENTION: 400,
  WHD_ERR_UNAUTHORIZED: 401,
  WHD_ERR_PORTAL_LINK_INVALID: 401,
  WHD_ERR_PORTAL_LINK_EXPIRED: 401,
  WHD_ERR_PORTAL_LINK_USED: 401,
  WHD_ERR_PORTAL_LINK_REVOKED: 401,
  WHD_ERR_PORTAL_SESSION_ENDED: 401,
  WHD_ERR_FORBIDDEN: 403,
  WHD_ERR_NOT_FOUND: 404,
  WHD_ERR_METHOD_NOT_ALLOWED: 405,
  WHD_ERR_CONFLICT: 409,
  WHD_ERR_ENDPOINT_INACTIVE: 409,
  WHD_ERR_ENDPOINT_MISMATCH: 409,
  WHD_ERR_GONE: 410,
  WHD_ERR_QUOTA_EXCEEDED: 409,
  WHD_ERR_REDRIVE_CONFLICT: 409,
  WHD_ERR_REPLAY_CONFLICT: 409,
  WHD_ERR_REPLAY_LIMIT: 409,
  WHD_ERR_PRECONDITION_FAILED: 412,
  WHD_ERR_PAYLOAD_TOO_LARGE: 413,
  WHD_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  WHD_ERR_RATE_LIMITED: 429,
  WHD_ERR_INTERNAL: 500,
  WHD_ERR_UNAVAILABLE: 503
} as const)

export type ApiErrorCode = keyof typeof apiErrorStatus

/** Every code, e.g. for the OpenAPI document's enum. */
export const apiErrorCodes = Object.freeze(Object.keys(apiErrorStatus)) as readonly ApiErrorCode[]

/** The body of every error response. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode, message: string, field?: string }
}

/**
 * An error response, thrown by handlers and validators and written by the
 * server. The message is shown to the caller: it must never hold a secret,
 * a token or internal detail.
 */
export class ApiError extends Error {
  readonly code: ApiErrorCode
  readonly status: number
  /** The request field at fault: `url`, `eventTypes[1]`, `tls.caPem`, query `limit`. */
  readonly field: string | undefined
  /** Extra response headers (`allow`, `www-authenticate`). */
  readonly headers: Readonly<Record<string, string>>

  constructor (code: ApiErrorCode, message: string, options: { field?: string, headers?: Record<string, string>, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ApiError'
    this.code = code
    this.status = apiErrorStatus[code]
    this.field = options.field
    this.headers = Object.freeze({ ...options.headers })
  }

  toBody (): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } }
  }
}

/** Judged by shape and code, not `instanceof`: another loaded copy of this module counts too. */
export function isApiError (err: unknown): err is ApiError {
  if (typeof err !== 'object' || err === null) return false
  const { name, code, status, toBody } = err as { name?: unknown, code?: unknown, status?: unknown, toBody?: unknown }
  return name === 'ApiError' && typeof code === 'string' && code in apiErrorStatus && typeof status === 'number' && typeof toBody === 'function'
}

export const validationError = (field: string, message: string): ApiError =>
  new ApiError('WHD_ERR_VALIDATION', `${field}: ${message}`, { field })

export const notFound = (what = 'endpoint'): ApiError => new ApiError('WHD_ERR_NOT_FOUND', `${what} not found`)

/**
 * Maps an error thrown by the subscription store (or another injected
 * dependency) to a response, by its `code` only (STYLE: never by message or
 * `instanceof`):
 *
 * - `WHD_ERR_NOT_FOUND` or any `…_NOT_FOUND` → 404 with a fixed message;
 * - `WHD_ERR_REDRIVE_CONFLICT` → 409 with that code (an overlapping redrive runs);
 * - `WHD_ERR_CONFLICT`, `…_CONFLICT`, `…_EXISTS` → 409;
 * - `WHD_ERR_VALIDATION` / `WHD_ERR_BAD_REQUEST` → 400 (keeps a string `field`);
 * - `WHD_ERR_PRECONDITION_FAILED` → 412 (an `If-Match` that no longer holds);
 * - `WHD_ERR_SSRF_BLOCKED` / `WHD_ERR_URL_INVALID` → 400, field `url`;
 * - anything else with `retriable: true` → 503 `WHD_ERR_UNAVAILABLE`;
 * - anything else → undefined (the caller answers 500 and logs it).
 *
 * Messages of the 400 and 409 kinds are passed on: the store writes them for
 * callers and never puts secrets in them.
 */
export function fromDependencyError (err: unknown): ApiError | undefined {
  if (isApiError(err)) return err
  if (typeof err !== 'object' || err === null) return undefined
  const { code, message, field, retriable } = err as { code?: unknown, message?: unknown, field?: unknown, retriable?: unknown }
  if (typeof code !== 'string') return undefined
  const text = typeof message === 'string' && message !== '' ? message : code
  const fieldOption = typeof field === 'string' && field !== '' ? { field } : {}
  if (code === 'WHD_ERR_NOT_FOUND' || code.endsWith('_NOT_FOUND')) return notFound()
  if (code === 'WHD_ERR_REDRIVE_CONFLICT') return new ApiError(code, text)
  if (code === 'WHD_ERR_CONFLICT' || code.endsWith('_CONFLICT') || code.endsWith('_EXISTS')) return new ApiError('WHD_ERR_CONFLICT', text, fieldOption)
  if (code === 'WHD_ERR_VALIDATION' || code === 'WHD_ERR_BAD_REQUEST') return new ApiError(code, text, fieldOption)
  if (code === 'WHD_ERR_PRECONDITION_FAILED') return new ApiError(code, text)
  if (code === 'WHD_ERR_SSRF_BLOCKED' || code === 'WHD_ERR_URL_INVALID') return new ApiError(code, text, { field: typeof field === 'string' ? field : 'url' })
  if (retriable === true) return new ApiError('WHD_ERR_UNAVAILABLE', 'a dependency is temporarily unavailable; retry later')
  return undefined
}
