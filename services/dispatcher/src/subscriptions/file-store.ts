import { readFileSync } from 'node:fs'
import type { SsrfPolicy } from '../delivery/ssrf/address-policy.js'
import { checkEndpointUrl } from '../delivery/ssrf/endpoint-url.js'
import { SubscriptionSourceError } from '../errors.js'
import type { Subscription, SubscriptionSource } from './types.js'

const secretPattern = /^whsec_[A-Za-z0-9+/]+={0,2}$/

/**
 * Subscriptions from a JSON file (`{ "subscriptions": [ … ] }`), validated at
 * start-up. An interim source until the topic-backed store exists; it keeps
 * its state in memory (a 410 disables an endpoint until restart).
 */
export class FileSubscriptionStore implements SubscriptionSource {
  private readonly byId = new Map<string, Subscription>()
  private readonly byTenant = new Map<string, Subscription[]>()
  private readonly disabledReasons = new Map<string, string>()

  constructor (subscriptions: readonly Subscription[]) {
    for (const subscription of subscriptions) {
      if (this.byId.has(subscription.id)) throw new SubscriptionSourceError(`duplicate subscription id "${subscription.id}"`)
      const copy = { ...subscription, eventTypes: [...subscription.eventTypes], secrets: [...subscription.secrets] }
      this.byId.set(copy.id, copy)
      const list = this.byTenant.get(copy.tenantId) ?? []
      list.push(copy)
      this.byTenant.set(copy.tenantId, list)
    }
  }

  /** `ssrf` also checks each URL as the admin API would (https, no blocked IP literal). */
  static fromFile (path: string, ssrf?: SsrfPolicy): FileSubscriptionStore {
    let raw: unknown
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw new SubscriptionSourceError(`cannot read subscriptions file ${path}: ${(err as Error).message}`, { cause: err })
    }
    return new FileSubscriptionStore(parseSubscriptions(raw, path, ssrf))
  }

  forTenant (tenantId: string): readonly Subscription[] {
    return this.byTenant.get(tenantId) ?? []
  }

  get (id: string): Subscription | undefined {
    return this.byId.get(id)
  }

  all (): readonly Subscription[] {
    return [...this.byId.values()]
  }

  disable (id: string, reason: string): void {
    const subscription = this.byId.get(id)
    if (subscription === undefined) return
    subscription.enabled = false
    subscription.disabledReason = reason
    this.disabledReasons.set(id, reason)
  }

  disabledReason (id: string): string | undefined {
    return this.disabledReasons.get(id)
  }
}

/** Validates the file's content; errors name the entry and field. */
export function parseSubscriptions (raw: unknown, source = 'subscriptions', ssrf?: SsrfPolicy): Subscription[] {
  const list = (raw as { subscriptions?: unknown } | null)?.subscriptions
  if (!Array.isArray(list)) throw new SubscriptionSourceError(`${source}: expected an object with a "subscriptions" array`)
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
