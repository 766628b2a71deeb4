// One webhook attempt over HTTP with undici: sign, POST, read the status,
// discard a bounded amount of the body. Redirects are never followed (undici's
// Agent follows none unless a redirect interceptor is composed in).
import { performance } from 'node:perf_hooks'
import { Agent, type buildConnector, type Dispatcher } from 'undici'
import { signWebhook, webhookHeaders } from './sign.js'
import { createSsrfConnector, SsrfBlockedError, type SsrfPolicy } from './ssrf.js'
import type { AttemptErrorCode, AttemptResult, Deliverer, DeliveryRequest } from './types.js'

export interface HttpDelivererOptions {
  /** Deadline for the TCP (and TLS) handshake. @defaultValue 5000 */
  connectTimeoutMs?: number
  /**
   * Deadline for a whole attempt, connect to the end of the response body;
   * `DeliveryRequest.timeoutMs` overrides it per request. @defaultValue 15000
   */
  attemptTimeoutMs?: number
  /** Keep-alive connections per origin (scheme, host, port). @defaultValue 16 */
  connectionsPerOrigin?: number
  /** Idle keep-alive sockets close after this, unless the server asks for less. @defaultValue 4000 */
  keepAliveTimeoutMs?: number
  /** Response body bytes read before the rest is discarded with the socket. @defaultValue 65536 */
  maxResponseBodyBytes?: number
  /** Sent as `user-agent: webhook-dispatcher/<version>`. @defaultValue 'dev' */
  version?: string
  /** Wall clock in epoch milliseconds, for `webhook-timestamp`. @defaultValue Date.now */
  now?: () => number
  /**
   * Connect-time hook, handed to undici's `Agent({ connect })`. An options
   * object is merged into `buildConnector` options (for example a `lookup`
   * that rejects private addresses, which is where the SSRF check belongs:
   * it then judges the addresses actually dialled, so DNS rebinding cannot
   * slip past); its `timeout` and `rejectUnauthorized` are overridden, so
   * TLS verification stays on. A connector function replaces undici's
   * connector entirely and must then enforce its own connect timeout. A hook
   * that refuses an address should fail with an error whose `code` is
   * `WHD_ERR_SSRF_BLOCKED` (`SSRF_BLOCKED_CODE`): that maps to `ssrf-blocked`.
   */
  connect?: Partial<buildConnector.BuildOptions> | buildConnector.connector
  /**
   * SSRF policy (DESIGN §6) enforced on every connection: an IP-literal host,
   * and every address a host name resolves to, is judged before a socket is
   * opened; a refusal is the `ssrf-blocked` error. Combines with an options
   * `connect` (not a connector function, nor one with its own `lookup`).
   * Unset, nothing is checked: main.ts always sets it. @defaultValue undefined
   */
  ssrf?: SsrfPolicy
}

export interface HttpDeliverer {
  deliver: Deliverer
  /** Waits for in-flight attempts, then closes every socket. Idempotent. */
  close: () => Promise<void>
}

export const SSRF_BLOCKED_CODE = SsrfBlockedError.code

const DEFAULTS = {
  connectTimeoutMs: 5_000,
  attemptTimeoutMs: 15_000,
  connectionsPerOrigin: 16,
  keepAliveTimeoutMs: 4_000,
  maxResponseBodyBytes: 64 * 1024
} as const

const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH'
])

function errorCodeOf (code: string): AttemptErrorCode | undefined {
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout'
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect-timeout'
    case 'ECONNREFUSED':
      return 'connection-refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
      return 'dns'
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'reset'
    case SSRF_BLOCKED_CODE:
      return 'ssrf-blocked'
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return 'tls'
  return undefined
}

/**
 * Maps a transport failure to a result code by its `code` (never by its
 * message), looking through `cause` chains and the `errors` of an
 * `AggregateError` (happy-eyeballs connects fail with one per address).
 */
export function classifyTransportError (err: unknown): AttemptErrorCode {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (typeof next !== 'object' || next === null || seen.has(next)) continue
    seen.add(next)
    const { code, cause, errors } = next as { code?: unknown, cause?: unknown, errors?: unknown }
    if (typeof code === 'string') {
      const mapped = errorCodeOf(code)
      if (mapped !== undefined) return mapped
    }
    if (cause !== undefined) queue.push(cause)
    if (Array.isArray(errors)) queue.push(...errors)
  }
  return 'other'
}

function describe (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message
}

function flatten (headers: Dispatcher.ResponseData['headers']): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(headers)) {
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

function positiveInteger (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}

export function createHttpDeliverer (options: HttpDelivererOptions = {}): HttpDeliverer {
  const connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs)
  const attemptTimeoutMs = positiveInteger('attemptTimeoutMs', options.attemptTimeoutMs ?? DEFAULTS.attemptTimeoutMs)
  const connections = positiveInteger('connectionsPerOrigin', options.connectionsPerOrigin ?? DEFAULTS.connectionsPerOrigin)
  const keepAliveTimeout = positiveInteger('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs)
  const maxResponseBodyBytes = positiveInteger('maxResponseBodyBytes', options.maxResponseBodyBytes ?? DEFAULTS.maxResponseBodyBytes)
  const userAgent = `webhook-dispatcher/${options.version ?? 'dev'}`
  const now = options.now ?? Date.now

  // A hook may add a `lookup` or a private CA, but never turn verification off.
  if (typeof options.connect === 'function' && options.ssrf !== undefined) {
    throw new TypeError('connect: a connector function cannot be combined with ssrf; pass connect options instead')
  }
  const connectOptions = typeof options.connect === 'function'
    ? undefined
    : { ...options.connect, timeout: connectTimeoutMs, rejectUnauthorized: true }
  const connect = connectOptions === undefined
    ? options.connect as buildConnector.connector
    : options.ssrf === undefined ? connectOptions : createSsrfConnector(options.ssrf, connectOptions)
  const agent = new Agent({
    connections,
    pipelining: 1,
    keepAliveTimeout,
    keepAliveMaxTimeout: Math.max(keepAliveTimeout, 60_000),
    connect
  })

  async function attempt (req: DeliveryRequest, timeoutMs: number, signal: AbortSignal): Promise<AttemptResult & { kind: 'response' }> {
    const url = new URL(req.url)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError(`unsupported URL scheme ${url.protocol}`)
    }
    const timestampSeconds = Math.floor(now() / 1000)
    const signature = signWebhook({ id: req.webhookId, timestampSeconds, body: req.body, secrets: req.secrets })
    const started = performance.now()
    const response = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': userAgent,
        ...webhookHeaders({ id: req.webhookId, timestampSeconds, signature })
      },
      body: req.body,
      signal,
      // Per-phase inactivity timers; the signal is what caps the total.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    const result = {
      kind: 'response' as const,
      status: response.statusCode,
      headers: flatten(response.headers),
      durationMs: 0
    }
    // The status decides the outcome; the body is read only so the socket can
    // go back to the pool. Past the limit, or on error or deadline, dump()
    // destroys the body (and its socket) instead; either way the attempt ends.
    await response.body.dump({ limit: maxResponseBodyBytes, signal }).catch(() => {})
    result.durationMs = performance.now() - started
    // undici hands a keep-alive socket back to the pool one event-loop turn
    // after the response (it first checks the idle socket for a FIN). Waiting
    // for that turn lets the next attempt of the same key reuse the socket
    // instead of opening a second one.
    await new Promise((resolve) => setImmediate(resolve))
    return result
  }

  const deliver: Deliverer = async (req) => {
    const started = performance.now()
    const timeoutMs = req.timeoutMs ?? attemptTimeoutMs
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort(new Error(`attempt deadline of ${timeoutMs} ms passed`))
    }, timeoutMs)
    try {
      return await attempt(req, timeoutMs, controller.signal)
    } catch (err) {
      return {
        kind: 'error',
        code: timedOut ? 'timeout' : classifyTransportError(err),
        message: timedOut ? `attempt deadline of ${timeoutMs} ms passed` : describe(err),
        durationMs: performance.now() - started
      }
    } finally {
      clearTimeout(timer)
    }
  }

  let closing: Promise<void> | undefined
  function close (): Promise<void> {
    closing ??= agent.close()
    return closing
  }

  return { deliver, close }
}
