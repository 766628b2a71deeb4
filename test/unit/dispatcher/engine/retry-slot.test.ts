// A failed delivery keeps the retry slot it was given when it failed, however
// late its parked record is read back (issue 12: on a loaded machine the
// read-back of a park took longer than a 1 s first step, and the item was
// pushed to the 10-minute step after it, holding its whole account back).
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DeliveryTask, RawRecord } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { readParkedState, toParkedRecord } from '../../../../services/dispatcher/src/engine/parked-record.js'
import { RetryLane } from '../../../../services/dispatcher/src/engine/retry-lane.js'
import { createRetryPolicy } from '../../../../services/dispatcher/src/engine/retry-policy.js'

const raw: RawRecord = { key: null, value: null, headers: {}, timestamp: 0 }
const FAILED_AT = 1_000_000
// The second step is far beyond anything the test waits for.
const policy = createRetryPolicy({ scheduleMs: [1000, 600_000], maxAgeMs: 3_600_000, retryAfterMaxMs: 3_600_000, random: () => 0.5 })

function failedOnce (lastFailureAt: number | undefined): DeliveryTask {
  return {
    webhookId: 'evt-1', subscriptionId: 'sub-1', tenantId: 't1', accountId: 'acc-1', eventType: 'transaction.posted', occurredAt: 0, body: '{}',
    source: { topic: 'src', partition: 0, offset: 5n }, record: raw, attempts: 1, firstFailureAt: FAILED_AT,
    ...(lastFailureAt === undefined ? {} : { lastFailureAt })
  }
}

/** A retry lane wired like the engine's (engine.ts): the policy judged as of the time the lane passes, else now. */
function laneAt (now: number): RetryLane {
  const lane = new RetryLane('src.retry', 0, {
    nextAttempt: (task, retryAfterMs, asOf) => policy.next(task, asOf ?? now, retryAfterMs),
    deadLetter: async () => {},
    disableEndpoint: () => {},
    onKeySettled: () => {},
    requestPump: () => {},
    now: () => now,
    move: async () => 0n
  }, pino({ level: 'silent' }))
  lane.openGate()
  return lane
}

const readyAt = (now: number, task: DeliveryTask): boolean => {
  const lane = laneAt(now)
  lane.accept(0n, { kind: 'retry', task })
  return lane.takeReady(10, () => true).length === 1
}

describe('a parked delivery read back late', () => {
  it('is due at once when its first retry slot passed while it was read back', () => {
    expect(readyAt(FAILED_AT + 5_000, failedOnce(FAILED_AT))).toBe(true)
  })

  it('still waits for a slot that has not come', () => {
    expect(readyAt(FAILED_AT + 100, failedOnce(FAILED_AT))).toBe(false)
  })

  it('carries the time of its last failure through the retry topic', () => {
    const parked = toParkedRecord(failedOnce(FAILED_AT + 7), FAILED_AT + 50)
    expect(readParkedState({ key: parked.key, value: parked.value, headers: parked.headers }).lastFailureAt).toBe(FAILED_AT + 7)
  })

  it('written by an older version (no last-failure time), is judged from now as before: the slot after', () => {
    expect(readyAt(FAILED_AT + 5_000, failedOnce(undefined))).toBe(false)
  })
})
