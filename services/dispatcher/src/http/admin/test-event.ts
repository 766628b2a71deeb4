// The `webhook.test` event behind POST /v1/endpoints/{id}/test: one signed
// delivery through the same deliverer (SSRF guard, timeouts, no redirects)
// as real events, outside the Kafka pipeline: nothing is parked or retried.
import { randomUUID } from 'node:crypto'
import type { Deliverer } from '../../delivery/types.js'
import type { SendTestEvent } from './types.js'

export const TEST_EVENT_TYPE = 'webhook.test'

export interface TestEventSenderOptions {
  deliver: Deliverer
  /** @defaultValue `Date.now` */
  now?: () => number
  /** The `webhook-id`. @defaultValue `test_` + a random UUID */
  newId?: () => string
}

/**
 * Builds {@link SendTestEvent} on a deliverer. The body is a Standard
 * Webhooks envelope (`{"type":"webhook.test","timestamp","data"}`), signed
 * with every current secret of the endpoint, so a receiver can check its
 * verification during a rotation too.
 */
export function createTestEventSender (options: TestEventSenderOptions): SendTestEvent {
  const now = options.now ?? Date.now
  const newId = options.newId ?? (() => `test_${randomUUID()}`)
  return async (subscription) => {
    const body = JSON.stringify({
      type: TEST_EVENT_TYPE,
      timestamp: new Date(now()).toISOString(),
      data: { subscriptionId: subscription.id, message: 'Test event from the webhook dispatcher admin API' }
    })
    const result = await options.deliver({ url: subscription.url, webhookId: newId(), body, secrets: [...subscription.secrets], tls: subscription.tls })
    return result.kind === 'response'
      ? { status: result.status, durationMs: result.durationMs }
      : { error: result.code, durationMs: result.durationMs }
  }
}
