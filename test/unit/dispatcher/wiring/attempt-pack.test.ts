import { deserialize, serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import type { AttemptEntry } from '../../../../services/dispatcher/src/engine/attempt-log.js'
import { packAttempt, unpackAttempt } from '../../../../services/dispatcher/src/wiring/attempt-pack.js'

const base: AttemptEntry = {
  attemptId: 'att-1',
  eventId: 'evt-1',
  eventType: 'transaction.posted',
  tenantId: 'tenant-a',
  subscriptionId: 'sub-1',
  accountId: 'acc-1',
  occurredAt: 1_700_000_000_000,
  sourceTopic: 'core.transactions',
  sourcePartition: 3,
  sourceOffset: 2n ** 60n,
  attemptNumber: 2,
  lane: 'retry',
  kind: 'attempt',
  outcome: 'failed',
  startedAt: 1_700_000_000_500
}

// What crosses to the writer thread is the structured clone of the packed
// form: round-trip through the same serializer postMessage uses.
const throughThread = (entry: AttemptEntry): AttemptEntry => unpackAttempt(deserialize(serialize(packAttempt(entry))) as ReturnType<typeof packAttempt>)

describe('attempt entries handed to the history thread', () => {
  it('arrive equal, every optional field included', () => {
    const full: AttemptEntry = { ...base, durationMs: 12, httpStatus: 503, errorCode: 'http-5xx', nextAttemptAt: 1_700_000_060_000, responseBodyPrefix: 'busy <b>' }
    expect(throughThread(full)).toStrictEqual(full)
  })

  it('arrive equal without the optional fields, which stay absent rather than undefined', () => {
    const back = throughThread(base)
    expect(back).toStrictEqual(base)
    expect(Object.keys(back)).not.toContain('httpStatus')
  })

  it('keep an offset beyond 2^53 exact', () => {
    expect(throughThread({ ...base, sourceOffset: 2n ** 63n - 1n }).sourceOffset).toBe(2n ** 63n - 1n)
  })
})
