import type { SubscriptionStore } from './store.js'

/**
 * Calls `release(id)` whenever an endpoint's change (local or from another
 * instance) may let held deliveries move: it resumed, was re-enabled,
 * disabled (they dead-letter) or deleted (they are dropped). Only a paused
 * endpoint keeps holding.
 */
export function watchHeldReleases (store: Pick<SubscriptionStore, 'onChange'>, release: (subscriptionId: string) => void): () => void {
  return store.onChange((id, subscription) => {
    if (subscription !== undefined && subscription.enabled && subscription.paused === true) return
    release(id)
  })
}

/**
 * The store as the admin API uses it, announcing each operator enable or
 * disable once, from the instance that made it (every instance sees the
 * change in the subscriptions topic; only this one announces it).
 */
export function announcingEnableChanges<S extends Pick<SubscriptionStore, 'setEnabled' | 'get'>> (
  store: S,
  announce: (type: 'endpoint.enabled' | 'endpoint.disabled', subscription: { id: string, tenantId: string }, reason: string) => void
): S {
  const setEnabled: SubscriptionStore['setEnabled'] = async (id, enabled, reason) => {
    const before = store.get(id)?.enabled
    const updated = await store.setEnabled(id, enabled, reason)
    if (before !== enabled) announce(enabled ? 'endpoint.enabled' : 'endpoint.disabled', updated, reason ?? (enabled ? 'enabled by operator' : 'disabled by operator'))
    return updated
  }
  return new Proxy(store, {
    get (target, property, receiver) {
      if (property === 'setEnabled') return setEnabled
      const value: unknown = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
}
