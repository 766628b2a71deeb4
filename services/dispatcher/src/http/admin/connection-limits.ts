// Bounds on slow and many clients of the admin API, passed to Node's server.
// fastify sets the server's requestTimeout from its own option, and Node
// checks the header and request deadlines only every
// connectionsCheckingInterval (30 s by default): both must be set for a
// deadline to hold.

/** Bounds on slow or many clients (ADMIN_HEADERS_TIMEOUT_MS, ADMIN_REQUEST_TIMEOUT_MS, ADMIN_MAX_CONNECTIONS). */
export interface AdminConnectionLimits {
  /**
   * Time from a connection's (or a keep-alive request's) first byte until
   * the request's headers are complete; then 408 and the connection closes.
   * @defaultValue 10000
   */
  headersTimeoutMs: number
  /**
   * Time until the whole request, body included, is received; also the
   * longest a connection may stay silent. At least `headersTimeoutMs`.
   * @defaultValue 30000
   */
  requestTimeoutMs: number
  /**
   * Open connections at once; further ones are closed as they arrive.
   * @defaultValue 128
   */
  maxConnections: number
}

export const DEFAULT_ADMIN_CONNECTION_LIMITS: Readonly<AdminConnectionLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 128
})

/**
 * How often Node checks the header and request deadlines: a tenth of the
 * shorter one, within 50 ms – 1 s. Node's default (30 s) let a slow client
 * hold a connection up to 30 s past its deadline.
 */
export const connectionsCheckingIntervalMs = (limits: Pick<AdminConnectionLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>): number =>
  Math.min(1000, Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)))
