import type { SsrfPolicy } from '../delivery/ssrf/address-policy.js'
import { checkEndpointUrl } from '../delivery/ssrf/endpoint-url.js'
import { SubscriptionSourceError } from '../errors.js'
import { firstProblem, SubscriptionFileEntry } from './schema.js'
import { tlsMaterialProblem } from './tls-check.js'
import type { Subscription } from './types.js'

/**
 * The subscriptions file (`{ "subscriptions": [ … ] }`) that seeds the
 * subscriptions topic (SUBSCRIPTIONS_FILE, the import CLI). Each entry is
 * checked against {@link SubscriptionFileEntry}, the schema the admin API
 * and the store use, so the file cannot create an endpoint the API could not
 * (a tenant id it cannot address, more event types than it allows). Errors
 * name the entry and field; a repeated id is refused.
 */
export function parseSubscriptions (raw: unknown, source = 'subscriptions', ssrf?: SsrfPolicy): Subscription[] {
  const list = (raw as { subscriptions?: unknown } | null)?.subscriptions
  if (!Array.isArray(list)) throw new SubscriptionSourceError(`${source}: expected an object with a "subscriptions" array`)
  const seen = new Set<string>()
  return list.map((entry: unknown, index) => {
    const where = `${source}: subscriptions[${index}]`
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new SubscriptionSourceError(`${where}: must be an object`)
    const problem = firstProblem(SubscriptionFileEntry, entry) ?? tlsMaterialProblem((entry as { tls?: SubscriptionFileEntry['tls'] }).tls)
    // The reason names the rule, never the value: secrets and keys are not echoed.
    if (problem !== undefined) throw new SubscriptionSourceError(`${where}${problem.field === '' ? '' : `.${problem.field}`}: ${problem.reason}`)
    const e = entry as SubscriptionFileEntry
    if (seen.has(e.id)) throw new SubscriptionSourceError(`${where}.id: duplicate subscription id "${e.id}"`)
    seen.add(e.id)
    const checked = ssrf === undefined ? undefined : checkEndpointUrl(e.url, ssrf)
    if (checked !== undefined && !checked.ok) throw new SubscriptionSourceError(`${where}.url: ${checked.reason} [${checked.code}]`)
    if (ssrf === undefined) {
      try {
        const parsed = new URL(e.url)
        if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme')
      } catch {
        throw new SubscriptionSourceError(`${where}.url: must be an http(s) URL`)
      }
    }
    const secrets = e.secrets ?? (e.secret === undefined ? undefined : [e.secret])
    if (secrets === undefined) throw new SubscriptionSourceError(`${where}.secrets: is required (a non-empty array of whsec_… secrets)`)
    const subscription: Subscription = {
      id: e.id,
      tenantId: e.tenantId,
      url: e.url,
      eventTypes: [...e.eventTypes],
      secrets: [...secrets],
      enabled: e.enabled !== false
    }
    if (e.maxInFlight !== undefined) subscription.maxInFlight = e.maxInFlight
    if (e.rateLimitPerSecond !== undefined) subscription.rateLimitPerSecond = e.rateLimitPerSecond
    if (e.description !== undefined) subscription.description = e.description
    if (e.paused !== undefined) subscription.paused = e.paused
    if (e.disabledReason !== undefined) subscription.disabledReason = e.disabledReason
    if (e.tls !== undefined) subscription.tls = { ...e.tls }
    return subscription
  })
}
