import type { SubscriptionStore } from './store.js'
import type { Subscription } from './types.js'

export interface EndpointTransitionHandlers {
  /** Became enabled and not paused (resumed, re-enabled): held deliveries may go. */
  resumed: (subscription: Subscription) => void
  /** Enabled ↔ disabled, whoever changed it (the engine on 410 or continuous failure, or an operator). */
  enabledChanged: (subscription: Subscription, enabled: boolean) => void
}

/**
 * Watches the store for endpoint state changes, local or from another
 * instance, so each is acted on in one place: the engine releases held
 * deliveries, and every disable or enable is announced exactly once.
 */
export function watchEndpointTransitions (store: Pick<SubscriptionStore, 'all' | 'onChange'>, handlers: EndpointTransitionHandlers): () => void {
  const enabled = new Map(store.all().map((s) => [s.id, s.enabled]))
  return store.onChange((id, subscription) => {
    if (subscription === undefined) {
      enabled.delete(id)
      return
    }
    const before = enabled.get(id)
    enabled.set(id, subscription.enabled)
    if (before !== undefined && before !== subscription.enabled) handlers.enabledChanged(subscription, subscription.enabled)
    if (subscription.enabled && subscription.paused !== true) handlers.resumed(subscription)
  })
}
