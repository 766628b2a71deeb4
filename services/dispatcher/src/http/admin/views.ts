// What the admin API shows of its resources. Built field by field from an
// allow-list, so a field added to `Subscription` later (a secret, a key) is
// not exposed by accident: secrets and the mTLS client key never appear here.
import type { SubscriptionState } from '../../subscriptions/store.js'
import type { Subscription } from '../../subscriptions/types.js'
import type { DeadLetter, EndpointHealth } from './types.js'

export interface EndpointView {
  id: string
  tenantId: string
  /** The ETag's value: grows by one with every change. */
  revision: number
  url: string
  eventTypes: string[]
  state: SubscriptionState
  enabled: boolean
  paused: boolean
  disabledReason?: string
  description?: string
  maxInFlight?: number
  rateLimitPerSecond?: number
  /** Which TLS material is configured; the PEMs themselves are not returned. */
  tls?: { clientCertificate: boolean, caCertificate: boolean }
  /** Secrets signing right now: 2 or more during a rotation's grace period. */
  activeSecrets: number
  createdAt?: string
  updatedAt?: string
}

/** Disabled wins over paused: a disabled endpoint delivers nothing either way. */
export function stateOf (subscription: Pick<Subscription, 'enabled' | 'paused'>): SubscriptionState {
  if (!subscription.enabled) return 'disabled'
  return subscription.paused === true ? 'paused' : 'enabled'
}

export function endpointView (s: Subscription): EndpointView {
  const view: EndpointView = {
    id: s.id,
    tenantId: s.tenantId,
    revision: s.revision ?? 1,
    url: s.url,
    eventTypes: [...s.eventTypes],
    state: stateOf(s),
    enabled: s.enabled,
    paused: s.paused === true,
    activeSecrets: s.secrets.length
  }
  if (s.disabledReason !== undefined && !s.enabled) view.disabledReason = s.disabledReason
  if (s.description !== undefined) view.description = s.description
  if (s.maxInFlight !== undefined) view.maxInFlight = s.maxInFlight
  if (s.rateLimitPerSecond !== undefined) view.rateLimitPerSecond = s.rateLimitPerSecond
  if (s.tls !== undefined) view.tls = { clientCertificate: s.tls.clientCertPem !== undefined, caCertificate: s.tls.caPem !== undefined }
  if (s.createdAt !== undefined) view.createdAt = s.createdAt
  if (s.updatedAt !== undefined) view.updatedAt = s.updatedAt
  return view
}

const iso = (epochMs: number): string => new Date(epochMs).toISOString()

export interface EndpointStatusView {
  id: string
  state: SubscriptionState
  disabledReason?: string
  circuit: EndpointHealth['circuit']
  recentSuccesses: number
  recentFailures: number
  lastError?: string
  lastAttemptAt?: string
}

export function endpointStatusView (s: Subscription, health: EndpointHealth): EndpointStatusView {
  const view: EndpointStatusView = {
    id: s.id,
    state: stateOf(s),
    circuit: health.circuit,
    recentSuccesses: health.recentSuccesses,
    recentFailures: health.recentFailures
  }
  const disabledReason = s.enabled ? undefined : (s.disabledReason ?? health.disabledReason)
  if (disabledReason !== undefined) view.disabledReason = disabledReason
  if (health.lastError !== undefined) view.lastError = health.lastError.slice(0, 500)
  if (health.lastAttemptAt !== undefined && Number.isFinite(health.lastAttemptAt)) view.lastAttemptAt = iso(health.lastAttemptAt)
  return view
}

export interface DeadLetterView extends Omit<DeadLetter, 'deadLetteredAt' | 'firstFailureAt' | 'stateAt' | 'redrivenAt'> {
  deadLetteredAt?: string
  firstFailureAt?: string
  stateAt?: string
  redrivenAt?: string
}

export function deadLetterView (letter: DeadLetter): DeadLetterView {
  const view: DeadLetterView = { id: letter.id, topic: letter.topic, partition: letter.partition, offset: letter.offset, state: letter.state }
  const copy = ['subscriptionId', 'accountId', 'reason', 'sourceTopic', 'sourcePartition', 'sourceOffset', 'attempts', 'lastStatus', 'redriveId', 'redrivenBy', 'redrives', 'redriveOf'] as const
  for (const key of copy) {
    if (letter[key] !== undefined) Object.assign(view, { [key]: letter[key] })
  }
  if (letter.lastError !== undefined) view.lastError = letter.lastError.slice(0, 500)
  if (letter.deadLetteredAt !== undefined) view.deadLetteredAt = iso(letter.deadLetteredAt)
  if (letter.firstFailureAt !== undefined) view.firstFailureAt = iso(letter.firstFailureAt)
  if (letter.stateAt !== undefined) view.stateAt = iso(letter.stateAt)
  if (letter.redrivenAt !== undefined) view.redrivenAt = iso(letter.redrivenAt)
  return view
}
