import type { Subscription } from '../../subscriptions/types.js'

/** Why an endpoint takes no resend or replay now. */
export type InactiveReason = 'paused' | 'disabled'

/** Paused, or disabled (quarantined too): undefined when it takes deliveries. */
export function inactiveReason (subscription: Subscription): InactiveReason | undefined {
  if (!subscription.enabled || subscription.quarantined !== undefined) return 'disabled'
  if (subscription.paused === true) return 'paused'
  return undefined
}
