import type { Subscription } from './types.js'

/** Whether one event-type filter entry (`a.b`, `a.*` or `*`) accepts `eventType`. */
export function eventTypeMatches (filter: string, eventType: string): boolean {
  if (filter === '*') return true
  if (filter.endsWith('.*')) return eventType.startsWith(filter.slice(0, -1))
  return filter === eventType
}

/**
 * The subscriptions an event goes to: only the owning tenant's (DESIGN C6),
 * and only those whose filter accepts the event type. Disabled ones are
 * included so the engine can dead-letter rather than silently drop.
 */
export function matchSubscriptions (
  tenantSubscriptions: readonly Subscription[],
  event: { tenantId: string, eventType: string }
): Subscription[] {
  return tenantSubscriptions.filter((s) => s.tenantId === event.tenantId && s.eventTypes.some((f) => eventTypeMatches(f, event.eventType)))
}
