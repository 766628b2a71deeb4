import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DeliveryTask } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { RetryLane } from '../../../../services/dispatcher/src/engine/retry-lane.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

// Every string new, as decoding a parked record makes them.
function parkedTask (i: number): DeliveryTask {
  const fresh = (text: string): string => Buffer.from(text).toString()
  return {
    webhookId: fresh(`0f8b6f7e-51d4-4c59-9f0e-${String(i).padStart(12, '0')}`),
    subscriptionId: fresh('5b0f4a52-3f7a-4d8e-9d55-6b2f0c1e7a31'),
    tenantId: fresh('tenant-0001'),
    accountId: fresh(`acc-${i % 100}`),
    eventType: fresh('transaction.posted'),
    occurredAt: 1_764_900_000_000 + i,
    body: fresh(`{"type":"transaction.posted","timestamp":"2026-12-05T08:00:00.000Z","data":{"eventId":"${i}","amount":"12.50","currency":"EUR","counterparty":"DE89370400440532013000","memo":"${'x'.repeat(220)}"}}`),
    source: { topic: fresh('banking.account-events.v1'), partition: 3, offset: BigInt(100_000 + i) },
    record: { key: Buffer.from(`acc-${i % 100}`), value: Buffer.alloc(180, i), headers: { 'content-type': Buffer.from('avro/binary') }, timestamp: 1_764_900_000_000 + i },
    attempts: 0
  }
}

function laneWithBudget (maxWithBytes?: number): RetryLane {
  return new RetryLane('src.retry', 3, {
    nextAttempt: () => ({ kind: 'retry', at: 0 }),
    deadLetter: async () => {},
    disableEndpoint: () => {},
    onKeySettled: () => {},
    requestPump: () => {},
    now: () => 0,
    move: async () => 0n
  }, pino({ level: 'silent' }), maxWithBytes === undefined ? {} : { maxWithBytes })
}

// Heap per item of `count` items taken in after 1,000 that warm up the
// lane's own structures (its keys' heads among them).
function heapPerItem (lane: RetryLane, count: number): number {
  for (let i = 0; i < 1_000; i++) lane.accept(BigInt(i), { kind: 'retry', task: parkedTask(i) })
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 1_000; i < 1_000 + count; i++) lane.accept(BigInt(i), { kind: 'retry', task: parkedTask(i) })
  gc()
  expect(lane.heldItems).toBe(1_000 + count)
  return (process.memoryUsage().heapUsed - before) / count
}

describe('RetryLane memory', () => {
  it('holds a parked delivery behind its key\'s head in under 256 bytes of heap (issue 14)', () => {
    const perItem = heapPerItem(laneWithBudget(), 50_000)
    console.log(`heap per held item: ${perItem.toFixed(0)} B`)
    expect(perItem).toBeLessThan(256)
  })

  it('holds a parked delivery without its bytes, past RETRY_MAX_PARKED_IN_MEMORY, in under 100 bytes of heap', () => {
    const lane = laneWithBudget(1_000)
    const perItem = heapPerItem(lane, 50_000)
    expect(lane.heldWithoutBytes).toBe(50_000)
    console.log(`heap per item held without bytes: ${perItem.toFixed(0)} B`)
    expect(perItem).toBeLessThan(100)
  })
})
