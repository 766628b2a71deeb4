// The resend behind POST /v1/events/{eventId}/resend (DESIGN §11): the
// event read back from its source record, rendered by the code that builds
// every webhook, delivered once per endpoint through the same deliverer
// (SSRF guard, timeouts, no redirects) with its original webhook-id, and
// each attempt recorded in the history with lane `manual`. Out of band:
// nothing is parked or retried, and no lane orders it against live traffic.
import { randomUUID } from 'node:crypto'
import { toWebhookBody } from '../delivery/payload.js'
import type { Deliverer } from '../delivery/types.js'
import { resultFields, type AttemptRecorder } from '../engine/attempt-log.js'
import type { ResendEvent, TestEventResult } from '../http/admin/types.js'
import type { ReadEvent } from './history.js'

export interface ResenderOptions {
  readEvent: ReadEvent
  deliver: Deliverer
  /** Undefined with HISTORY_ENABLED=false. */
  history: AttemptRecorder | undefined
  /** DELIVERY_TIMEOUT_MS. */
  deliveryTimeoutMs: number
  /** @defaultValue `Date.now` */
  now?: () => number
  /** @defaultValue `randomUUID` */
  newId?: () => string
}

export function createResender (o: ResenderOptions): ResendEvent {
  const now = o.now ?? Date.now
  const newId = o.newId ?? randomUUID
  return async (event, targets) => {
    const read = await o.readEvent(event.eventId, event.source)
    if (read.kind === 'gone') return read
    const body = toWebhookBody(read.event)
    // One at a time: a resend is a support action, not a burst.
    const results: TestEventResult[] = []
    for (const { subscription, attemptNumber } of targets) {
      const startedAt = now()
      const result = await o.deliver({ url: subscription.url, webhookId: event.eventId, body, secrets: [...subscription.secrets], tls: subscription.tls, timeoutMs: o.deliveryTimeoutMs })
      const delivered = result.kind === 'response' && result.status >= 200 && result.status < 300
      o.history?.record({
        attemptId: newId(),
        eventId: event.eventId,
        eventType: event.eventType,
        tenantId: event.tenantId,
        subscriptionId: subscription.id,
        accountId: event.accountId,
        occurredAt: event.occurredAt,
        sourceTopic: event.source.topic,
        sourcePartition: event.source.partition,
        sourceOffset: event.source.offset,
        attemptNumber,
        lane: 'manual',
        kind: 'attempt',
        outcome: delivered ? 'delivered' : 'failed',
        startedAt,
        durationMs: Math.round(result.durationMs),
        ...resultFields(result)
      })
      results.push(result.kind === 'response' ? { status: result.status, durationMs: result.durationMs } : { error: result.code, durationMs: result.durationMs })
    }
    return { kind: 'sent', results }
  }
}
