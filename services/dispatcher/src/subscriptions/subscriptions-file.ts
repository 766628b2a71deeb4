import type { SsrfPolicy } from '../delivery/ssrf/address-policy.js'
import { checkEndpointUrl } from '../delivery/ssrf/endpoint-url.js'
import { SubscriptionSourceError } from '../errors.js'
import type { Subscription } from './types.js'

const secretPattern = /^whsec_[A-Za-z0-9+/]+={0,2}$/

/**
 * The subscriptions file (`{ "subscriptions": [ … ] }`) that seeds the
 * subscriptions topic (SUBSCRIPTIONS_FILE, the import CLI). Validates the
 * content; errors name the entry and field, and a repeated id is refused.
 */
export function parseSubscriptions (raw: unknown, source = 'subscriptions', ssrf?: SsrfPolicy): Subscription[] {
  const list = (raw as { subscriptions?: unknown } | null)?.subscriptions
  if (!Array.isArray(list)) throw new SubscriptionSourceError(`${source}: expected an object with a "subscriptions" array`)
  const seen = new Set<string>()
  return list.map((entry: unknown, index) => {
    const where = `${source}: subscriptions[${index}]`
    if (typeof entry !== 'object' || entry === null) throw new SubscriptionSourceError(`${where}: must be an object`)
    const e = entry as Record<string, unknown>
    const str = (field: string): string => {
      const value = e[field]
      if (typeof value !== 'string' || value.trim() === '') throw new SubscriptionSourceError(`${where}.${field}: must be a non-empty string`)
      return value
    }
    const id = str('id')
    if (seen.has(id)) throw new SubscriptionSourceError(`${where}.id: duplicate subscription id "${id}"`)
    seen.add(id)
    const tenantId = str('tenantId')
    const url = str('url')
    try {
      const parsed = new URL(url)
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme')
    } catch {
      throw new SubscriptionSourceError(`${where}.url: must be an http(s) URL`)
    }
    const checked = ssrf === undefined ? undefined : checkEndpointUrl(url, ssrf)
    if (checked !== undefined && !checked.ok) throw new SubscriptionSourceError(`${where}.url: ${checked.reason} [${checked.code}]`)
    const eventTypes = e.eventTypes
    if (!Array.isArray(eventTypes) || eventTypes.length === 0 || !eventTypes.every((t) => typeof t === 'string' && t !== '')) {
      throw new SubscriptionSourceError(`${where}.eventTypes: must be a non-empty array of event types`)
    }
    const secrets = e.secrets ?? (e.secret === undefined ? undefined : [e.secret])
    if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && secretPattern.test(s))) {
      // The value itself is never echoed: it is a secret.
      throw new SubscriptionSourceError(`${where}.secrets: must be a non-empty array of whsec_… secrets`)
    }
    const maxInFlight = e.maxInFlight
    if (maxInFlight !== undefined && (typeof maxInFlight !== 'number' || !Number.isInteger(maxInFlight) || maxInFlight < 1)) {
      throw new SubscriptionSourceError(`${where}.maxInFlight: must be a positive integer`)
    }
    const rateLimitPerSecond = e.rateLimitPerSecond
    if (rateLimitPerSecond !== undefined && (typeof rateLimitPerSecond !== 'number' || !(rateLimitPerSecond > 0))) {
      throw new SubscriptionSourceError(`${where}.rateLimitPerSecond: must be a positive number`)
    }
    const subscription: Subscription = {
      id,
      tenantId,
      url,
      eventTypes: eventTypes as string[],
      secrets: secrets as string[],
      enabled: e.enabled !== false
    }
    if (maxInFlight !== undefined) subscription.maxInFlight = maxInFlight as number
    if (rateLimitPerSecond !== undefined) subscription.rateLimitPerSecond = rateLimitPerSecond as number
    if (typeof e.description === 'string') subscription.description = e.description
    return subscription
  })
}
