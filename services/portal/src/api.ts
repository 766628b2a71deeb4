// The portal talks only to the public admin API, as a portal session: the
// session is an HttpOnly cookie (never visible to this code), and every call
// carries the x-portal-request header the API requires of cookie calls.

export class ApiFailure extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message)
    this.name = 'ApiFailure'
  }
}

/** Called when the session has ended (expired, revoked, signed out). */
let onSessionEnded: (failure: ApiFailure) => void = () => undefined
export const whenSessionEnds = (handler: (failure: ApiFailure) => void): void => { onSessionEnded = handler }

export async function api<T = unknown> (method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-portal-request': '1', accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await response.text()
  const parsed: unknown = text === '' ? undefined : JSON.parse(text)
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string, message?: string, field?: string } } | undefined)?.error
    const failure = new ApiFailure(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? response.statusText, error?.field)
    if (failure.code === 'WHD_ERR_PORTAL_SESSION_ENDED') onSessionEnded(failure)
    throw failure
  }
  return parsed as T
}

/** `?a=1&b=2` from the defined, non-empty values. */
export function query (params: Record<string, string | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.append(key, value)
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

export const describeFailure = (err: unknown): string =>
  err instanceof ApiFailure ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err)
