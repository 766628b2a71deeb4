import type { Static } from '@sinclair/typebox'
import type { EndpointPatch, SubscriptionInput as SubscriptionInputSchema } from './schema.js'
import type { Subscription, SubscriptionSource } from './types.js'

/** What a caller may set when creating an endpoint (ids, times and secrets are the store's): schema.ts. */
export type SubscriptionInput = Static<typeof SubscriptionInputSchema>

/** What an update changes: the fields given; `null` clears an optional field (JSON merge patch). */
export type SubscriptionPatch = Static<typeof EndpointPatch>

/**
 * A write's precondition: the revision the caller last saw (`If-Match`).
 * When the endpoint has moved on, the write is refused with
 * `WHD_ERR_PRECONDITION_FAILED` and nothing changes.
 */
export interface WriteCondition {
  ifRevision?: number
}

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
  update (id: string, patch: SubscriptionPatch, condition?: WriteCondition): Promise<Subscription>
  delete (id: string, condition?: WriteCondition): Promise<void>
  /** A new secret signs at once; the old one keeps signing alongside for `graceSeconds`, then stops. */
  rotateSecret (id: string, graceSeconds: number): Promise<SecretIssued>
  /** The current signing secrets (the one dedicated call that returns them outside create/rotate). */
  revealSecrets (id: string): string[]
  setPaused (id: string, paused: boolean): Promise<Subscription>
  setEnabled (id: string, enabled: boolean, reason?: string): Promise<Subscription>
  /** Called after any change (local or from another instance) is applied. */
  onChange (listener: (id: string, subscription: Subscription | undefined) => void): () => void
}
