import type { Logger } from 'pino'
import { classify } from '../delivery/classify.js'
import type { Deliverer } from '../delivery/types.js'
import type { Metrics } from '../metrics.js'
import type { SubscriptionSource } from '../subscriptions/types.js'
import type { CircuitBreakers } from './circuit-breaker.js'
import type { DeliveryTask, TaskOutcome } from './delivery-task.js'
import type { EndpointStats } from './endpoint-stats.js'
import type { RetryPolicy } from './retry-policy.js'
import { entryBase, laneOf, resultFields, type AttemptRecorder } from './attempt-log.js'

export interface AttemptOptions {
  subscriptions: SubscriptionSource
  deliver: Deliverer
  /**
   * Deliveries in flight to one endpoint at most (the scheduler's cap): the
   * size of the endpoint's own connection pool.
   */
  endpointCap: (subscriptionId: string) => number
  breakers: CircuitBreakers
  endpointStats: EndpointStats
  retryPolicy: RetryPolicy
  metrics: Pick<Metrics, 'dropped' | 'inFlight' | 'attemptDuration' | 'deliveries' | 'endToEndLag'>
  /** DELIVERY_TIMEOUT_MS. */
  deliveryTimeoutMs: number
  /** AUTO_DISABLE_AFTER_HOURS in milliseconds: continuous failure that disables an endpoint. */
  autoDisableAfterMs: number
  /** Disables an endpoint (and announces it); the caller decides how. */
  disable: (subscriptionId: string, reason: string) => void
  now: () => number
  log: Logger
  /** The delivery history: every attempt, and every delivery held or dropped here. */
  history: AttemptRecorder
  /** A fresh id per history record (randomUUID). */
  newId: () => string
}

/**
 * What happens to one delivery when the scheduler starts it: the whole
 * delivery policy, in the order it is judged.
 *
 * 1. The subscription was deleted → dropped (counted). Disabled → dead
 *    letter. Paused → held (parks, no retry clock).
 * 2. Out of time (first failure + RETRY_MAX_AGE) → dead letter, even while
 *    its circuit is open, so an endpoint that stays down does not keep
 *    deliveries past the max age.
 * 3. Circuit open → held until the probe time (or the max age), starting
 *    the retry clock: the endpoint is failing.
 * 4. Otherwise one HTTP attempt: 2xx delivered; 410 gone; anything else
 *    failed, with the receiver's `Retry-After` clamped by the retry policy.
 *    An endpoint failing for AUTO_DISABLE_AFTER_HOURS is disabled.
 *
 * Mutates the task's attempt state (attempts, first failure, last status or
 * error): it travels with the task when it is parked.
 */
export function createAttempt (o: AttemptOptions): (task: DeliveryTask) => Promise<TaskOutcome> {
  return async (task) => {
    const subscription = o.subscriptions.get(task.subscriptionId)
    const outcomeRecord = (outcome: 'held' | 'dropped', reason: string, nextAttemptAt?: number): void => {
      o.history.record({ ...entryBase(task, o.newId()), lane: laneOf(task), kind: 'outcome', outcome, startedAt: o.now(), errorCode: reason, ...(nextAttemptAt === undefined ? {} : { nextAttemptAt }) })
    }
    if (subscription === undefined) {
      o.metrics.dropped.inc({ reason: 'subscription-deleted' })
      outcomeRecord('dropped', 'subscription-deleted')
      return { kind: 'dropped', reason: 'subscription-deleted' }
    }
    if (!subscription.enabled) return { kind: 'dead-letter', reason: subscription.quarantined === undefined ? 'endpoint-disabled' : 'endpoint-quarantined' }
    if (subscription.paused === true) {
      outcomeRecord('held', 'paused')
      return { kind: 'held', reason: 'paused' }
    }
    if (o.retryPolicy.expired(task, o.now())) return { kind: 'dead-letter', reason: 'retries-exhausted' }
    const gate = o.breakers.beforeAttempt(subscription.id, o.now())
    if (!gate.allow) {
      task.firstFailureAt ??= o.now()
      task.lastError ??= 'circuit-open'
      const until = Math.min(gate.until, o.retryPolicy.deadline(task.firstFailureAt))
      outcomeRecord('held', 'circuit-open', until)
      return { kind: 'held', reason: 'circuit-open', until }
    }
    const startedAt = o.now()
    o.metrics.inFlight.inc()
    const result = await o.deliver({
      url: subscription.url,
      webhookId: task.webhookId,
      body: task.body,
      secrets: subscription.secrets,
      tls: subscription.tls,
      timeoutMs: o.deliveryTimeoutMs,
      pool: { id: subscription.id, connections: o.endpointCap(subscription.id) }
    })
    o.metrics.inFlight.dec()
    task.attempts++
    const now = o.now()
    const outcome = classify(result, now)
    const lane = 'retryOffset' in task ? 'retry' : 'source'
    const attemptRecord = (delivered: boolean, nextAttemptAt?: number): void => {
      o.history.record({
        ...entryBase(task, o.newId()),
        lane: laneOf(task),
        kind: 'attempt',
        outcome: delivered ? 'delivered' : 'failed',
        startedAt,
        durationMs: Math.round(result.durationMs),
        ...resultFields(result),
        ...(nextAttemptAt === undefined ? {} : { nextAttemptAt })
      })
    }
    o.metrics.attemptDuration.observe({ outcome: outcome.kind === 'delivered' ? 'delivered' : 'failed' }, result.durationMs / 1000)
    o.breakers.record(subscription.id, outcome.kind === 'delivered', now, gate.probe)
    o.endpointStats.record(subscription.id, outcome.kind === 'delivered', now, result.kind === 'response' ? `HTTP ${result.status}` : result.code)
    if (outcome.kind === 'delivered') {
      o.metrics.deliveries.inc({ outcome: 'delivered', status_class: '2xx', lane })
      o.metrics.endToEndLag.observe(Math.max(0, now - task.occurredAt) / 1000)
      o.log.debug({ webhookId: task.webhookId, subscriptionId: task.subscriptionId, status: result.kind === 'response' ? result.status : undefined, durationMs: result.durationMs }, 'delivered')
      attemptRecord(true)
      return { kind: 'delivered' }
    }
    task.firstFailureAt ??= now
    task.lastFailureAt = now
    const failingSince = o.breakers.failingSince(subscription.id)
    if (failingSince !== undefined && now - failingSince >= o.autoDisableAfterMs) o.disable(subscription.id, 'continuous-failure')
    if (result.kind === 'response') {
      task.lastStatus = result.status
      task.lastError = `HTTP ${result.status}`
    } else {
      delete task.lastStatus
      task.lastError = result.code
    }
    if (outcome.kind === 'endpoint-gone') {
      o.metrics.deliveries.inc({ outcome: 'failed', status_class: '4xx', lane })
      attemptRecord(false)
      return { kind: 'failed', endpointGone: true }
    }
    o.metrics.deliveries.inc({ outcome: 'failed', status_class: outcome.statusClass, lane })
    o.log.debug({ webhookId: task.webhookId, subscriptionId: task.subscriptionId, error: task.lastError, attempts: task.attempts }, 'attempt failed')
    const retryAfterMs = outcome.retryAfterMs === undefined ? undefined : o.retryPolicy.clampRetryAfter(outcome.retryAfterMs)
    // The lanes compute the same time again when they schedule it: the
    // policy's jitter is a function of the delivery, not a random draw.
    const next = o.retryPolicy.next(task, now, retryAfterMs)
    attemptRecord(false, next.kind === 'retry' ? next.at : undefined)
    if (retryAfterMs === undefined) return { kind: 'failed', endpointGone: false }
    return { kind: 'failed', endpointGone: false, retryAfterMs }
  }
}
