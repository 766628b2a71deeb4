// The two adapters main.ts wires: the test-event sender on a deliverer, and
// dead-letter records as the API lists them.
import { describe, expect, it } from 'vitest'
import type { DeliveryRequest } from '../../../../services/dispatcher/src/delivery/types.js'
import { toDeadLetter } from '../../../../services/dispatcher/src/dead-letters/view.js'
import { createTestEventSender } from '../../../../services/dispatcher/src/http/admin/test-event.js'
import { H, toDeadLetterRecord } from '../../../../services/dispatcher/src/engine/parked-record.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'
import { consumed } from '../dead-letters/fixtures.js'

const secrets = ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_c2Vjb25kLXNlY3JldC0xMjM0NTY3ODkwMTI=']
const subscription: Subscription = { id: 'ep-1', tenantId: 't-1', url: 'https://hooks.example/x', eventTypes: ['*'], secrets, enabled: false }

describe('createTestEventSender', () => {
  it('delivers a webhook.test envelope with every current secret, whatever the endpoint state', async () => {
    const requests: DeliveryRequest[] = []
    const send = createTestEventSender({
      deliver: async (request) => {
        requests.push(request)
        return { kind: 'response', status: 200, headers: {}, durationMs: 31 }
      },
      now: () => Date.parse('2025-01-15T10:00:00Z'),
      newId: () => 'test_1'
    })
    expect(await send(subscription)).toEqual({ status: 200, durationMs: 31 })
    expect(requests).toHaveLength(1)
    const [request] = requests
    expect(request).toMatchObject({ url: 'https://hooks.example/x', webhookId: 'test_1', secrets })
    expect(JSON.parse(request!.body)).toEqual({ id: 'test_1', type: 'webhook.test', timestamp: '2025-01-15T10:00:00.000Z', data: { subscriptionId: 'ep-1', message: expect.any(String) } })
  })

  it('reports a transport failure by its code', async () => {
    const send = createTestEventSender({ deliver: async () => ({ kind: 'error', code: 'ssrf-blocked', message: '10.0.0.1 is private', durationMs: 2 }) })
    expect(await send(subscription)).toEqual({ error: 'ssrf-blocked', durationMs: 2 })
  })
})

describe('toDeadLetter', () => {
  it('reads the listed fields from a dead-letter record, not the payload', () => {
    const record = consumed(toDeadLetterRecord({
      source: { topic: 'banking.transactions.v1', partition: 3, offset: 42n },
      record: { key: Buffer.from('acc-9'), value: Buffer.from('secret payload'), headers: {}, timestamp: 5 },
      subscriptionId: 'ep-1',
      attempts: 7,
      firstFailureAt: 1_000,
      lastStatus: 503,
      lastError: 'status 503'
    }, 'retries-exhausted', 9_000))
    const letter = toDeadLetter({ ...record, offset: '17' }, 'webhooks.dead-letter', 2)
    expect(letter).toEqual({
      id: 'webhooks.dead-letter:2:17',
      topic: 'webhooks.dead-letter',
      partition: 2,
      offset: '17',
      state: 'dead',
      subscriptionId: 'ep-1',
      accountId: 'acc-9',
      reason: 'retries-exhausted',
      deadLetteredAt: 9_000,
      sourceTopic: 'banking.transactions.v1',
      sourcePartition: 3,
      sourceOffset: '42',
      attempts: 7,
      firstFailureAt: 1_000,
      lastStatus: 503,
      lastError: 'status 503'
    })
    expect(JSON.stringify(letter)).not.toContain('secret payload')
  })

  it('takes its state from the lifecycle, and names the letter it was redriven from', () => {
    const record = consumed(toDeadLetterRecord({
      source: { topic: 'banking.transactions.v1', partition: 3, offset: 42n },
      record: { key: Buffer.from('acc-9'), value: null, headers: { [H.redriveOf]: 'webhooks.dead-letter:1:4', [H.redriveId]: 'r-1' }, timestamp: 5 },
      subscriptionId: 'ep-1',
      attempts: 3
    }, 'retries-exhausted', 9_000))
    const letter = toDeadLetter({ ...record, offset: '18' }, 'webhooks.dead-letter', 2, { state: 'delivered', at: 10_000, redriveId: 'r-2', redrivenAt: 9_500, redrivenBy: 'cli:ops@host', redrives: 2 })
    expect(letter).toMatchObject({ id: 'webhooks.dead-letter:2:18', state: 'delivered', stateAt: 10_000, redriveId: 'r-2', redrivenAt: 9_500, redrivenBy: 'cli:ops@host', redrives: 2, redriveOf: 'webhooks.dead-letter:1:4' })
  })
})
