/**
 * A tenant's webhook endpoint and what it receives, as the subscription
 * store (webhooks.subscriptions) materialises it for the engine.
 */
export interface Subscription {
  id: string
  tenantId: string
  url: string
  /** Exact event types (`transaction.posted`), prefixes (`transaction.*`) or `*`. */
  eventTypes: string[]
  /** Signing secrets, newest first; every one signs during a rotation. */
  secrets: string[]
  /** False after 410 Gone or by an operator: deliveries are dead-lettered. */
  enabled: boolean
  /** Why it was disabled (410 Gone, continuous failure, operator). */
  disabledReason?: string
  /** Paused by an operator: deliveries park, nothing is lost; resume delivers the backlog in order. */
  paused?: boolean
  /** Per-endpoint in-flight cap; lowers the global ENDPOINT_MAX_IN_FLIGHT, never raises it. */
  maxInFlight?: number
  /** Token-bucket rate limit, deliveries per second. */
  rateLimitPerSecond?: number
  description?: string
  /** Grows by one with every change; the admin API's ETag. Absent only on subscriptions not read from a store. */
  revision?: number
  /** ISO-8601 times. */
  createdAt?: string
  updatedAt?: string
  /** mTLS client certificate and key, and a CA for private certificates (PEM, decrypted in memory). */
  tls?: { clientCertPem?: string, clientKeyPem?: string, caPem?: string }
  /**
   * Set when the endpoint is quarantined: its latest record could not be
   * verified or decrypted by this instance (why). It is then disabled, has
   * no secrets, and its events are dead-lettered as `endpoint-quarantined`.
   */
  quarantined?: string
}

/** Read side of the subscription store, as the delivery engine needs it. */
export interface SubscriptionSource {
  /** Enabled and disabled subscriptions of one tenant. */
  forTenant (tenantId: string): readonly Subscription[]
  get (id: string): Subscription | undefined
  /** Every subscription, e.g. for metrics. */
  all (): readonly Subscription[]
  /** Marks a subscription disabled (410 Gone); the reason is kept for operators. */
  disable (id: string, reason: string): void
}
