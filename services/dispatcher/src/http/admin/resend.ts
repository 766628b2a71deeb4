// POST /v1/events/{eventId}/resend (DESIGN §11): one event delivered again
// now, with its original webhook-id, out of band — it is not ordered against
// the live traffic of its key, so a receiver may see it after a later event.
// The history finds the event (tenant-scoped, C6) and the endpoints it went
// to; the record is read back from Kafka, never from a copy.
import type { Scope } from '../../admin-tokens.js'
import type { IndexedAttempt, HistoryStore } from '../../history/store.js'
import { eventTypeMatches } from '../../subscriptions/match.js'
import type { SubscriptionSource } from '../../subscriptions/types.js'
import { scopeCovers } from '../../admin-tokens.js'
import type { Handler } from './context.js'
import { ApiError, notFound } from './errors.js'
import { EVENT_ID_PATTERN } from './history-schemas.js'
import type { ResendEvent, ResendEventRef, ResendTarget, TestEventResult } from './types.js'
import { inactiveReason, type InactiveReason } from './endpoint-activity.js'

export interface ResendHandlerDeps {
  /** Undefined when the deployment keeps no index (HISTORY_STORE=none): the route answers 404. */
  store: HistoryStore | undefined
  subscriptions: Pick<SubscriptionSource, 'get'>
  resend: ResendEvent | undefined
}

interface DeliveryView { endpointId: string, delivered: boolean, reason?: 'rejected' | 'unreachable' | InactiveReason }

const tenantOf = (scope: Scope): string | undefined => (scope.kind === 'tenant' ? scope.tenantId : undefined)

const resultView = (endpointId: string, result: TestEventResult): DeliveryView => {
  if ('error' in result) return { endpointId, delivered: false, reason: 'unreachable' }
  return result.status >= 200 && result.status < 300 ? { endpointId, delivered: true } : { endpointId, delivered: false, reason: 'rejected' }
}

/** The number the next attempt to `endpointId` gets: attempts count over all lanes (history-schemas.ts). */
const nextAttemptNumber = (records: readonly IndexedAttempt[], endpointId: string): number =>
  records.filter((r) => r.kind === 'attempt' && r.subscriptionId === endpointId).length + 1

export function resendHandlers (deps: ResendHandlerDeps): { resendEvent: Handler } {
  return {
    async resendEvent (context) {
      const store = deps.store
      if (store === undefined) throw new ApiError('WHD_ERR_NOT_FOUND', 'this deployment keeps no delivery history (HISTORY_STORE=none)')
      const eventId = String((context.params ?? {}).eventId ?? '')
      if (!EVENT_ID_PATTERN.test(eventId)) throw notFound('event')
      const scope = context.principal.scope
      const records = await store.eventRecords(tenantOf(scope), eventId)
      const first = records[0]
      if (first === undefined) throw notFound('event')
      context.annotate({ eventId })
      const event: ResendEventRef = {
        eventId, eventType: first.eventType, tenantId: first.tenantId, accountId: first.accountId, occurredAt: first.occurredAt,
        source: { topic: first.sourceTopic, partition: first.sourcePartition, offset: first.sourceOffset }
      }

      const { endpointId } = context.body as { endpointId?: string }
      const targets: ResendTarget[] = []
      const skipped: DeliveryView[] = []
      if (endpointId !== undefined) {
        const subscription = deps.subscriptions.get(endpointId)
        // Another tenant's endpoint is, to a tenant token, one that does not exist.
        if (subscription === undefined || !scopeCovers(scope, subscription.tenantId)) throw notFound()
        if (subscription.tenantId !== event.tenantId) throw new ApiError('WHD_ERR_ENDPOINT_MISMATCH', `endpoint ${endpointId} belongs to another tenant than event ${eventId}: an event goes only to its own tenant's endpoints`)
        if (!subscription.eventTypes.some((filter) => eventTypeMatches(filter, event.eventType))) {
          throw new ApiError('WHD_ERR_ENDPOINT_MISMATCH', `endpoint ${endpointId} does not take ${event.eventType} events (its eventTypes)`)
        }
        const inactive = inactiveReason(subscription)
        if (inactive !== undefined) throw new ApiError('WHD_ERR_ENDPOINT_INACTIVE', `endpoint ${endpointId} is ${inactive}: ${inactive === 'paused' ? 'resume' : 'enable'} it first`)
        targets.push({ subscription, attemptNumber: nextAttemptNumber(records, subscription.id) })
      } else {
        for (const id of new Set(records.map((r) => r.subscriptionId))) {
          const subscription = deps.subscriptions.get(id)
          // Deleted since, or moved out of the tenant by a delete and a re-create: not a target.
          if (subscription === undefined || subscription.tenantId !== event.tenantId) continue
          const inactive = inactiveReason(subscription)
          if (inactive === undefined) targets.push({ subscription, attemptNumber: nextAttemptNumber(records, id) })
          else skipped.push({ endpointId: id, delivered: false, reason: inactive })
        }
        if (targets.length === 0) {
          if (skipped.length > 0) throw new ApiError('WHD_ERR_ENDPOINT_INACTIVE', `every endpoint of event ${eventId} is paused or disabled: resume or enable one first`)
          throw new ApiError('WHD_ERR_ENDPOINT_MISMATCH', `none of the endpoints event ${eventId} went to exists any more: name one with endpointId`)
        }
      }

      if (deps.resend === undefined) throw new ApiError('WHD_ERR_UNAVAILABLE', 'events cannot be resent here; retry later')
      const outcome = await deps.resend(event, targets)
      if (outcome.kind === 'gone') {
        throw new ApiError('WHD_ERR_GONE', `the event's record (${event.source.topic}/${event.source.partition}@${event.source.offset}) is no longer on Kafka: retention removed it, so it cannot be resent; its delivery history remains`)
      }
      const deliveries = targets.map((t, i) => resultView(t.subscription.id, outcome.results[i] as TestEventResult))
      context.annotate({ resentTo: deliveries.length })
      return { status: 200, body: { eventId, deliveries: [...deliveries, ...skipped] } }
    }
  }
}
