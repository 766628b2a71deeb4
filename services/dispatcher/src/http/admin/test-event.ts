// The `webhook.test` event behind POST /v1/endpoints/{id}/test: one signed
// delivery through the same deliverer (SSRF guard, timeouts, no redirects)
// as real events, outside the Kafka pipeline: nothing is parked or retried.
import { randomUUID } from 'node:crypto'
import { TEST_EVENT_MESSAGE, TEST_EVENT_TYPE } from '../../catalog/catalog.js'
import type { Deliverer } from '../../delivery/types.js'
import type { SendTestEvent } from './types.js'

export { TEST_EVENT_TYPE }

export interface TestEventSenderOptions {
  deliver: Deliverer
  /** @defaultValue `Date.now` */
  now?: () => number
  /** The `webhook-id`. @defaultValue `test_` + a random UUID */
  newId?: () => string
}

/**
 * Builds {@link SendTestEvent} on a deliverer. The body is a Standard
 * Webhooks envelope (`{"id","type":"webhook.test","timestamp","data"}`, `id`
 * equal to the webhook-id, as in every event's body), signed
 * with every current secret of the endpoint, so a receiver can check its
 * verification during a rotation too.
 */
export function createTestEventSender (options: TestEventSenderOptions): SendTestEvent {
  const now = options.now ?? Date.now
  const newId = options.newId ?? (() => `test_${randomUUID()}`)
  return async (subscription) => {
    const webhookId = newId()
    const body = JSON.stringify({
      id: webhookId,
      type: TEST_EVENT_TYPE,
      timestamp: new Date(now()).toISOString(),
      data: { subscriptionId: subscription.id, message: TEST_EVENT_MESSAGE }
    })
    const result = await options.deliver({ url: subscription.url, webhookId, body, secrets: [...subscription.secrets], tls: subscription.tls })
    return result.kind === 'response'
      ? { status: result.status, durationMs: result.durationMs }
      : { error: result.code, durationMs: result.durationMs }
  }
}
