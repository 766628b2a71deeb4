/**
 * A tenant's webhook endpoint and what it receives. The file store reads these
 * today; the topic-backed store (webhooks.subscriptions) will implement the
 * same {@link SubscriptionSource} interface.
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
  /** Per-endpoint in-flight cap; the global ENDPOINT_MAX_IN_FLIGHT when absent. */
  maxInFlight?: number
  description?: string
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
