import type { Subscription, SubscriptionSource } from './types.js'

/** What a caller may set when creating an endpoint (ids, times and secrets are the store's). */
export interface SubscriptionInput {
  tenantId: string
  url: string
  eventTypes: string[]
  description?: string
  /** Per-endpoint in-flight cap; lowers ENDPOINT_MAX_IN_FLIGHT, never raises it. */
  maxInFlight?: number
  /** Token-bucket rate limit, deliveries per second. */
  rateLimitPerSecond?: number
  /** Client certificate (PEM) and key (PEM, stored encrypted) for mTLS; CA (PEM) for private certificates. */
  tls?: { clientCertPem?: string, clientKeyPem?: string, caPem?: string }
}

export type SubscriptionPatch = Partial<Omit<SubscriptionInput, 'tenantId'>>

export type SubscriptionState = 'enabled' | 'disabled' | 'paused'

export interface ListQuery {
  /** Only this tenant's endpoints; undefined = all tenants (operators). */
  tenantId?: string
  /** Endpoints whose filter accepts this event type. */
  eventType?: string
  state?: SubscriptionState
  /** Page size (1–200). */
  limit: number
  /** Opaque cursor from the previous page. */
  cursor?: string
}

export interface Page<T> {
  items: T[]
  nextCursor?: string
}

/** A freshly created or rotated secret, returned once to the caller. */
export interface SecretIssued {
  subscription: Subscription
  secret: string
}

/**
 * The subscription store: the read side the engine uses
 * ({@link SubscriptionSource}) plus the writes the admin API makes. Writes
 * resolve once this instance's view has applied them (read-your-writes);
 * other instances apply them live from the compacted topic.
 */
export interface SubscriptionStore extends SubscriptionSource {
  list (query: ListQuery): Page<Subscription>
  create (input: SubscriptionInput): Promise<SecretIssued>
  update (id: string, patch: SubscriptionPatch): Promise<Subscription>
  delete (id: string): Promise<void>
  /** A new secret signs at once; the old one keeps signing alongside for `graceSeconds`, then stops. */
  rotateSecret (id: string, graceSeconds: number): Promise<SecretIssued>
  /** The current signing secrets (the one dedicated call that returns them outside create/rotate). */
  revealSecrets (id: string): string[]
  setPaused (id: string, paused: boolean): Promise<Subscription>
  setEnabled (id: string, enabled: boolean, reason?: string): Promise<Subscription>
  /** Called after any change (local or from another instance) is applied. */
  onChange (listener: (id: string, subscription: Subscription | undefined) => void): () => void
}
