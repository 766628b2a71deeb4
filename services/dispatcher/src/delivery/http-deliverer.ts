// One webhook attempt over HTTP with undici: sign, POST, read the status,
// discard a bounded amount of the body. Redirects are never followed (undici's
// Agent follows none unless a redirect interceptor is composed in).
import { performance } from 'node:perf_hooks'
import type { SecureContext, SecureContextOptions } from 'node:tls'
import { Agent, buildConnector, type Dispatcher } from 'undici'
import { exchange, type ExchangeHandle } from './exchange.js'
import { signWebhook, webhookHeaders } from './sign.js'
import { SsrfBlockedError } from '../errors.js'
import { createSsrfConnector, type SsrfPolicy } from './ssrf.js'
import { createProxyConnector } from './ssrf/proxy-connector.js'
import { createPoolCache } from './pool-cache.js'
import { isTlsErrorCode } from './tls/errors.js'
import { withTlsDiagnostics } from './tls/handshake-diagnostics.js'
import { createTlsSecureContext, normaliseTlsMaterial, tlsMaterialKey } from './tls/material.js'
import type { AttemptErrorCode, AttemptResult, Deliverer, DeliveryPool, DeliveryRequest, DeliveryTlsMaterial } from './types.js'

// Endpoint URLs whose parse is kept; past it the memo starts again.
const MAX_TARGETS_KEPT = 10_000

export interface HttpDelivererOptions {
  /** Deadline for the TCP (and TLS) handshake. @defaultValue 5000 */
  connectTimeoutMs?: number
  /**
   * Deadline for a whole attempt, connect to the end of the response body;
   * `DeliveryRequest.timeoutMs` overrides it per request. @defaultValue 15000
   */
  attemptTimeoutMs?: number
  /**
   * Keep-alive connections per origin (scheme, host, port) of the shared
   * pool, which serves requests without a `pool` (test events, resends).
   * A request with a `pool` gets that pool's own sockets. @defaultValue 16
   */
  connectionsPerOrigin?: number
  /** Idle keep-alive sockets close after this, unless the server asks for less. @defaultValue 4000 */
  keepAliveTimeoutMs?: number
  /** Response body bytes read before the rest is discarded with the socket. @defaultValue 65536 */
  maxResponseBodyBytes?: number
  /**
   * Bytes of the response body kept on the result (`bodyPrefix`) for the
   * delivery history; 0 keeps none. At most `maxResponseBodyBytes`. @defaultValue 0
   */
  responseBodyPrefixBytes?: number
  /**
   * Sent as `user-agent: webhook-dispatcher/<version>`; `false` sends
   * `webhook-dispatcher` alone (USER_AGENT_VERSION=false). @defaultValue 'dev'
   */
  version?: string | false
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
  /**
   * Connection pools kept besides the shared one: one per request `pool`
   * (an endpoint's lane) and TLS material, and one per TLS material for
   * requests with `tls` but no `pool`. The least recently used is closed
   * when full (its requests finish first). Size it above the number of
   * endpoints in use: a pool built again costs new handshakes. Secure
   * contexts (with `caPem`, tens of ms of CPU and about 0.8 MB each, their
   * own copy of the root store) are built once per material and shared by
   * its pools, as many kept. @defaultValue 1024
   */
  maxPools?: number
  /**
   * A pool no request asked for during this long is closed (its sockets have
   * gone idle long before, after `keepAliveTimeoutMs`); a later request
   * builds it again. @defaultValue 60000
   */
  poolIdleMs?: number
  /**
   * An HTTP CONNECT proxy every webhook goes through (WEBHOOK_PROXY_URL).
   * The SSRF policy still judges the endpoint: its name is resolved here and
   * the tunnel asked for the approved address (ssrf/proxy-connector.ts).
   * Needs `ssrf`. @defaultValue undefined (direct connections)
   */
  proxy?: URL
}

interface PoolRequest {
  pool: DeliveryPool | undefined
  tls: DeliveryTlsMaterial | undefined
  tlsKey: string | undefined
}

export interface HttpDeliverer {
  deliver: Deliverer
  /**
   * Ends every attempt in flight now: each answers an `other` error ("the
   * dispatcher shut down before the endpoint answered"). For shutdown, once
   * the lanes no longer take results.
   */
  abortInFlight: () => void
  /** Ends the attempts in flight ({@link abortInFlight}), then closes every socket. Idempotent. */
  close: () => Promise<void>
}

export const SSRF_BLOCKED_CODE = SsrfBlockedError.code

const DEFAULTS = {
  connectTimeoutMs: 5_000,
  attemptTimeoutMs: 15_000,
  connectionsPerOrigin: 16,
  keepAliveTimeoutMs: 4_000,
  maxResponseBodyBytes: 64 * 1024,
  maxPools: 1024,
  poolIdleMs: 60_000
} as const

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
  if (isTlsErrorCode(code)) return 'tls'
  return undefined
}

/**
 * The result code of a transport failure and the error in the chain that
 * decided it. The first recognised code wins, except that a `reset` gives
 * way to a TLS error behind it: a connection closed because the server
 * refused the handshake (see tls/handshake-diagnostics.ts) is a TLS failure.
 */
function findTransportError (err: unknown): { code: AttemptErrorCode, source: unknown } {
  let found: { code: AttemptErrorCode, source: unknown } | undefined
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (typeof next !== 'object' || next === null || seen.has(next)) continue
    seen.add(next)
    const { code, cause, errors } = next as { code?: unknown, cause?: unknown, errors?: unknown }
    const mapped = typeof code === 'string' ? errorCodeOf(code) : undefined
    if (mapped === 'tls' && found?.code === 'reset') return { code: mapped, source: next }
    if (mapped !== undefined && found === undefined) {
      found = { code: mapped, source: next }
      if (mapped !== 'reset') return found
    }
    if (cause !== undefined) queue.push(cause)
    if (Array.isArray(errors)) queue.push(...errors)
  }
  return found ?? { code: 'other', source: err }
}

/**
 * Maps a transport failure to a result code by its `code` (never by its
 * message), looking through `cause` chains and the `errors` of an
 * `AggregateError` (happy-eyeballs connects fail with one per address).
 */
export function classifyTransportError (err: unknown): AttemptErrorCode {
  return findTransportError(err).code
}

function describe (err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  // OpenSSL's messages end in a newline.
  const message = err.message.trim()
  return typeof code === 'string' ? `${code}: ${message}` : message
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
  const responseBodyPrefixBytes = Math.min(Math.max(0, Math.floor(options.responseBodyPrefixBytes ?? 0)), maxResponseBodyBytes)
  const maxPools = positiveInteger('maxPools', options.maxPools ?? DEFAULTS.maxPools)
  const poolIdleMs = positiveInteger('poolIdleMs', options.poolIdleMs ?? DEFAULTS.poolIdleMs)
  const userAgent = options.version === false ? 'webhook-dispatcher' : `webhook-dispatcher/${options.version ?? 'dev'}`
  const now = options.now ?? Date.now

  // A hook may add a `lookup` or a private CA, but never turn verification off.
  if (typeof options.connect === 'function' && options.ssrf !== undefined) {
    throw new TypeError('connect: a connector function cannot be combined with ssrf; pass connect options instead')
  }
  const connectOptions = typeof options.connect === 'function'
    ? undefined
    : { ...options.connect, timeout: connectTimeoutMs, rejectUnauthorized: true }

  // Every pool dials through the same guard: the SSRF check when a policy is
  // set, and TLS diagnostics on top.
  if (options.proxy !== undefined && (options.ssrf === undefined || connectOptions === undefined)) {
    throw new TypeError('proxy: needs an ssrf policy and connect options (not a connector function)')
  }
  function connectorFor (buildOptions: buildConnector.BuildOptions): buildConnector.connector {
    if (options.proxy !== undefined && options.ssrf !== undefined) return withTlsDiagnostics(createProxyConnector(options.ssrf, buildOptions, { proxy: options.proxy }))
    return withTlsDiagnostics(options.ssrf === undefined ? buildConnector(buildOptions) : createSsrfConnector(options.ssrf, buildOptions))
  }

  function newAgent (connect: buildConnector.connector, poolConnections = connections): Agent {
    return new Agent({
      connections: poolConnections,
      pipelining: 1,
      keepAliveTimeout,
      keepAliveMaxTimeout: Math.max(keepAliveTimeout, 60_000),
      connect
    })
  }

  // Shared by every pool without TLS material of its own.
  const plainConnector = connectOptions === undefined
    ? withTlsDiagnostics(options.connect as buildConnector.connector)
    : connectorFor(connectOptions as buildConnector.BuildOptions)
  const agent = newAgent(plainConnector)

  // One secure context per TLS material, built once and shared by every pool
  // with that material: passing PEMs as connect options would parse them
  // (and a copy of the root store) again on every connection.
  const secureContexts = createPoolCache<{ tls: DeliveryTlsMaterial, tlsKey: string }, { context: SecureContext, close: () => Promise<void> }>({
    maxSize: maxPools,
    idleMs: poolIdleMs,
    keyOf: ({ tlsKey }) => tlsKey,
    create: ({ tls }) => ({ context: createTlsSecureContext(tls, connectOptions as SecureContextOptions), close: async () => {} })
  })

  // Pools besides the shared one, keyed by (pool, size, TLS material). A pool
  // per endpoint lane, sized by its cap, lets each endpoint reach its cap and
  // keeps a hanging endpoint off the sockets of others on the same origin.
  // A TLS connection is bound to the client certificate it presented, so
  // sockets are shared only between requests with identical material. The
  // size is part of the key: a changed cap builds a new pool, and the old one
  // goes idle and is closed.
  const pools = createPoolCache<PoolRequest, Agent>({
    maxSize: maxPools,
    idleMs: poolIdleMs,
    keyOf: ({ pool, tlsKey }) => JSON.stringify([pool?.id ?? null, pool?.connections ?? connections, tlsKey ?? null]),
    create: ({ pool, tls, tlsKey }) => {
      const size = pool === undefined ? connections : positiveInteger('pool.connections', pool.connections)
      if (tls === undefined || tlsKey === undefined) return newAgent(plainConnector, size)
      if (connectOptions === undefined) throw new TypeError('tls: a request with TLS material needs connect options, not a connector function')
      const secureContext = secureContexts.get({ tls, tlsKey }).context
      return newAgent(connectorFor({ ...connectOptions, secureContext, rejectUnauthorized: true } as buildConnector.BuildOptions), size)
    }
  })

  function dispatcherFor (pool: DeliveryPool | undefined, tls: DeliveryTlsMaterial | undefined): Dispatcher {
    if (pool === undefined && tls === undefined) return agent
    return pools.get({ pool, tls, tlsKey: tls === undefined ? undefined : tlsMaterialKey(tls) })
  }

  // Parsed once per endpoint URL, not per attempt.
  const targets = new Map<string, { origin: string, path: string }>()
  function targetOf (raw: string): { origin: string, path: string } {
    let target = targets.get(raw)
    if (target === undefined) {
      const url = new URL(raw)
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`unsupported URL scheme ${url.protocol}`)
      target = { origin: url.origin, path: `${url.pathname}${url.search}` }
      if (targets.size >= MAX_TARGETS_KEPT) targets.clear()
      targets.set(raw, target)
    }
    return target
  }

  // Signs and sends; throws, sending nothing, on a bad URL or secret.
  function send (req: DeliveryRequest, timeoutMs: number): ExchangeHandle {
    const { origin, path } = targetOf(req.url)
    const timestampSeconds = Math.floor(now() / 1000)
    const signature = signWebhook({ id: req.webhookId, timestampSeconds, body: req.body, secrets: req.secrets })
    const tls = normaliseTlsMaterial(req.tls)
    // Taken and used in the same turn: an eviction cannot close the pool in
    // between, and once it holds the request, closing lets the request finish.
    const dispatcher = dispatcherFor(req.pool, tls)
    return exchange(dispatcher, {
      origin,
      path,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': userAgent,
        ...webhookHeaders({ id: req.webhookId, timestampSeconds, signature })
      },
      body: req.body,
      // Per-phase inactivity timers; deliver()'s deadline caps the total.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    }, { maxBodyBytes: maxResponseBodyBytes, prefixBytes: responseBodyPrefixBytes })
  }

  // Attempts in flight, so close() can end them: by then the dispatcher has
  // drained and committed, and an attempt still open (an endpoint that never
  // answers) is not settled and will be made again. Waiting for it would
  // hold shutdown for up to DELIVERY_TIMEOUT_MS, past the hard deadline.
  const inFlight = new Set<(reason: Error) => void>()

  function failed (err: unknown, timedOut: boolean, timeoutMs: number, started: number): AttemptResult {
    const { code, source } = findTransportError(err)
    // A TLS alert behind a generic close is the part worth reading.
    const detail = code === 'tls' && source !== err ? `${describe(err)}: ${describe(source)}` : describe(err)
    return {
      kind: 'error',
      code: timedOut ? 'timeout' : code,
      message: timedOut ? `attempt deadline of ${timeoutMs} ms passed` : detail,
      durationMs: performance.now() - started
    }
  }

  const deliver: Deliverer = async (req) => {
    const started = performance.now()
    if (closing !== undefined) return { kind: 'error', code: 'other', message: 'the deliverer is closed', durationMs: 0 }
    if (req.signal?.aborted === true) return { kind: 'error', code: 'other', message: 'the attempt was stopped before it started', durationMs: 0 }
    const timeoutMs = req.timeoutMs ?? attemptTimeoutMs
    let handle: ExchangeHandle
    try {
      handle = send(req, timeoutMs)
    } catch (err) {
      return failed(err, false, timeoutMs, started)
    }
    // The status decides the outcome. Ended early (deadline, caller, shutdown)
    // before the response, the attempt fails; after it, while the body is
    // read, the response stands and its socket is dropped.
    const end = (reason: Error): void => { handle.abort(reason) }
    const stop = (): void => { end(new Error('the attempt was stopped by its caller')) }
    req.signal?.addEventListener('abort', stop, { once: true })
    inFlight.add(end)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      end(new Error(`attempt deadline of ${timeoutMs} ms passed`))
    }, timeoutMs)
    try {
      const { status, headers, bodyPrefix } = await handle.done
      const result: AttemptResult & { kind: 'response' } = { kind: 'response', status, headers, durationMs: performance.now() - started }
      if (bodyPrefix !== undefined) result.bodyPrefix = bodyPrefix
      // undici hands a keep-alive socket back to the pool one event-loop turn
      // after the response (it first checks the idle socket for a FIN). Waiting
      // for that turn lets the next attempt of the same key reuse the socket
      // instead of opening a second one.
      await new Promise((resolve) => setImmediate(resolve))
      return result
    } catch (err) {
      return failed(err, timedOut, timeoutMs, started)
    } finally {
      clearTimeout(timer)
      inFlight.delete(end)
      req.signal?.removeEventListener('abort', stop)
    }
  }

  function abortInFlight (): void {
    for (const end of inFlight) end(new Error('the dispatcher shut down before the endpoint answered'))
  }

  let closing: Promise<void> | undefined
  function close (): Promise<void> {
    if (closing === undefined) abortInFlight()
    // Both close even if one fails; the first failure is reported.
    closing ??= Promise.allSettled([agent.close(), pools.close(), secureContexts.close()]).then((results) => {
      for (const result of results) if (result.status === 'rejected') throw result.reason
    })
    return closing
  }

  return { deliver, abortInFlight, close }
}
