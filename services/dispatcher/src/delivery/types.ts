// The seam between the delivery engine and HTTP: the engine depends on these
// types only, so it can run against a fake deliverer in unit tests.

export interface DeliveryRequest {
  /** The endpoint URL (http or https). */
  url: string
  /** The `webhook-id` header: the event id, the same on every attempt. */
  webhookId: string
  /** The JSON body, exactly as it is signed and sent. */
  body: string
  /** `whsec_…` secrets to sign with; several during a rotation. */
  secrets: string[]
  /** Deadline for this attempt, connect to end of response body. */
  timeoutMs?: number
  /**
   * The endpoint's mutual-TLS client certificate and extra CA (the
   * subscription's `tls`). Unset, or with every field empty, the request
   * goes over the deliverer's shared connections.
   */
  tls?: DeliveryTlsMaterial
  /**
   * The connection pool this request goes through. Requests naming the same
   * pool share its keep-alive sockets, at most `connections` open at once,
   * and no request of another pool ever uses them: an endpoint whose
   * requests hang holds only its own sockets, even when other endpoints
   * share its host. Unset (test events, resends), the request uses the
   * deliverer's shared pool per origin.
   */
  pool?: DeliveryPool
  /**
   * Ends the attempt when aborted (a replay job stopping): it answers an
   * `other` error at once instead of waiting for an endpoint that may never
   * answer.
   */
  signal?: AbortSignal
}

/** A connection pool of its own: one per endpoint and lane (http-deliverer.ts). */
export interface DeliveryPool {
  /** Names the pool, e.g. the subscription id; with TLS material, each material gets a pool of its own. */
  id: string
  /** Sockets open at most: the caller's concurrency cap for this pool, so no request waits for a socket. */
  connections: number
}

/**
 * TLS material of one endpoint, PEM text (the key already decrypted, in
 * memory only). Certificate and key go together.
 */
export interface DeliveryTlsMaterial {
  /** Client certificate (chain) presented to the endpoint. */
  clientCertPem?: string
  /** Private key of `clientCertPem`, unencrypted. Never logged. */
  clientKeyPem?: string
  /**
   * One or more CA certificates trusted for the endpoint's server
   * certificate, in addition to (not instead of) the deliverer's trust store.
   */
  caPem?: string
}

export type AttemptErrorCode =
  | 'timeout'
  | 'connect-timeout'
  | 'connection-refused'
  | 'dns'
  | 'tls'
  | 'ssrf-blocked'
  | 'reset'
  | 'other'

export type AttemptResult =
  | {
    kind: 'response'
    status: number
    /** Response headers, lower-case names; repeated headers joined with ", ". */
    headers: Record<string, string | undefined>
    durationMs: number
    /** The start of the response body, UTF-8, when the deliverer keeps one (HISTORY_RESPONSE_BODY_BYTES). */
    bodyPrefix?: string
  }
  | {
    kind: 'error'
    code: AttemptErrorCode
    /** Human-readable cause for logs; branch on `code`, never on this. */
    message: string
    durationMs: number
  }

/** Makes one HTTP attempt. Never rejects: every failure is an `error` result. */
export type Deliverer = (req: DeliveryRequest) => Promise<AttemptResult>
