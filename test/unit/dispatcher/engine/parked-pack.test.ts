import { describe, expect, it } from 'vitest'
import type { DeliveryTask } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { PackArena, unpackTask } from '../../../../services/dispatcher/src/engine/parked-pack.js'

// Each task in an arena of its own, as the bytes of one buffer.
function packTask (task: DeliveryTask): Buffer {
  const { slab, at, length } = new PackArena().pack(task)
  return slab.subarray(at, at + length)
}

const source = { topic: 'banking.account-events.v1', partition: 7, offset: 2n ** 62n + 5n }

function task (overrides: Partial<DeliveryTask> = {}): DeliveryTask {
  return {
    webhookId: '0f8b6f7e-51d4-4c59-9f0e-8b1d6b1e2a10',
    subscriptionId: 'sub-ü-1',
    tenantId: 'tenant-1',
    accountId: 'acc-42',
    eventType: 'transaction.posted',
    occurredAt: 1_764_900_000_123,
    body: '{"type":"transaction.posted","data":{"amount":"12.50","memo":"café ☕"}}',
    source,
    record: {
      key: Buffer.from('acc-42'),
      value: Buffer.from([0, 0, 0, 0, 1, 2, 255, 0, 7]),
      headers: { traceparent: Buffer.from('00-abc-def-01'), 'whd-redrive-of': 'dlt:3:17', empty: Buffer.alloc(0) },
      timestamp: 1_764_900_000_100
    },
    attempts: 3,
    ...overrides
  }
}

describe('packTask / unpackTask', () => {
  it('round-trips a delivery with every optional field', () => {
    const original = task({ firstFailureAt: 1_764_900_001_000, lastFailureAt: 1_764_900_009_000, lastStatus: 503, lastError: 'HTTP 503', notBefore: 1_764_900_060_000, redrivenAt: 1_764_800_000_000 })
    expect(unpackTask(packTask(original), original.subscriptionId, source)).toEqual(original)
  })

  it('round-trips a delivery with none of them, a null key and a null value', () => {
    const original = task({ attempts: 0, record: { key: null, value: null, headers: {}, timestamp: 0 } })
    const back = unpackTask(packTask(original), original.subscriptionId, source)
    expect(back).toEqual(original)
    for (const field of ['firstFailureAt', 'lastFailureAt', 'lastStatus', 'lastError', 'notBefore', 'redrivenAt']) expect(back).not.toHaveProperty(field)
  })

  it('keeps a header given as a string a string, and the first of repeated header values', () => {
    const original = task({ record: { key: null, value: Buffer.from('v'), headers: { a: 'text', b: [Buffer.from('first'), Buffer.from('second')] }, timestamp: 1 } })
    const back = unpackTask(packTask(original), original.subscriptionId, source)
    expect(back.record.headers).toEqual({ a: 'text', b: Buffer.from('first') })
  })

  it('packs into one buffer that does not share the task\'s bytes', () => {
    const original = task()
    const packed = packTask(original)
    ;(original.record.value as Buffer).fill(9)
    expect(unpackTask(packed, original.subscriptionId, source).record.value).toEqual(Buffer.from([0, 0, 0, 0, 1, 2, 255, 0, 7]))
  })
})
