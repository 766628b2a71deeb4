import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DeliveryTask } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { RetryLane, type RetryLaneEffects } from '../../../../services/dispatcher/src/engine/retry-lane.js'
import { nextAttemptAt } from '../../../../services/dispatcher/src/delivery/backoff.js'
import { H, readParkedState } from '../../../../services/dispatcher/src/engine/parked-record.js'
import { planRedrive, redriveSkipReasons, targetLabel, type RedriveDecision, type RedrivePlanOptions } from '../../../../services/dispatcher/src/dead-letters/plan.js'
import { T, consumed, deadLetter, undecodableLetter } from './fixtures.js'

const NOW = T + 86_400_000
const options: RedrivePlanOptions = { retryTopicSuffix: '.retry', now: NOW }

function redriven (decision: RedriveDecision): Extract<RedriveDecision, { kind: 'redrive' }> {
  if (decision.kind !== 'redrive') throw new Error(`expected a redrive, got ${JSON.stringify(decision)}`)
  return decision
}

function text (value: string | Buffer | undefined): string | undefined {
  return value === undefined ? undefined : value.toString()
}

describe('planRedrive: selection', () => {
  it('leaves letters the filter does not select alone', () => {
    const decision = planRedrive(deadLetter({ account: 'acc-2' }), { accountIds: ['acc-1'] }, options)
    expect(decision.kind).toBe('unmatched')
    expect(decision.letter.accountId).toBe('acc-2')
  })

  it('selects by every filter field on a real dead letter', () => {
    const letter = deadLetter({ subscriptionId: 'sub-b', account: 'acc-9', reason: 'endpoint-gone', deadLetteredAt: T, topic: 'banking.accounts.v1' })
    expect(planRedrive(letter, { subscriptionIds: ['sub-b'], accountIds: ['acc-9'], reasons: ['endpoint-gone'], sourceTopics: ['banking.accounts.v1'], from: T, to: T + 1 }, options).kind).toBe('redrive')
    expect(planRedrive(letter, { subscriptionIds: ['sub-a'] }, options).kind).toBe('unmatched')
    expect(planRedrive(letter, { to: T }, options).kind).toBe('unmatched')
  })
})

describe('planRedrive: target', () => {
  it('is the source topic\'s retry topic at the source partition (co-partitioning)', () => {
    const decision = redriven(planRedrive(deadLetter({ topic: 'banking.fraud-alerts.v1', partition: 11 }), {}, options))
    expect(decision.target).toEqual({ topic: 'banking.fraud-alerts.v1.retry', partition: 11 })
    expect(targetLabel(decision.target)).toBe('banking.fraud-alerts.v1.retry:11')
  })

  it('follows RETRY_TOPIC_SUFFIX', () => {
    const decision = redriven(planRedrive(deadLetter({ partition: 0 }), {}, { ...options, retryTopicSuffix: '-retry' }))
    expect(decision.target).toEqual({ topic: 'banking.transactions.v1-retry', partition: 0 })
  })

  it('is checked against the retry topics that exist, when they are given', () => {
    const retryPartitions = new Map([['banking.transactions.v1.retry', 4]])
    expect(redriven(planRedrive(deadLetter({ partition: 3 }), {}, { ...options, retryPartitions })).target.partition).toBe(3)
    expect(planRedrive(deadLetter({ partition: 4 }), {}, { ...options, retryPartitions })).toMatchObject({
      kind: 'skip', reason: 'retry-partition-missing', detail: expect.stringContaining('has 4 partitions')
    })
    expect(planRedrive(deadLetter({ topic: 'banking.accounts.v1' }), {}, { ...options, retryPartitions })).toMatchObject({
      kind: 'skip', reason: 'retry-topic-missing', detail: expect.stringContaining('banking.accounts.v1.retry')
    })
    expect(planRedrive(deadLetter(), {}, { ...options, retryPartitions: new Map() })).toMatchObject({ kind: 'skip', reason: 'retry-topic-missing' })
  })
})

describe('planRedrive: the redriven record', () => {
  const letter = deadLetter({
    subscriptionId: 'sub-a',
    account: 'acc-000001',
    partition: 3,
    offset: 9_007_199_254_740_993n,
    attempts: 9,
    firstFailureAt: T - 7_200_000,
    lastStatus: 503,
    lastError: 'HTTP 503',
    headers: { traceparent: Buffer.from('00-abc-def-01'), 'content-type': 'application/vnd.kafka.avro', binary: Buffer.from([0, 255, 1]) },
    timestamp: T - 7_300_000
  })
  const { record } = redriven(planRedrive(letter, {}, options))

  it('carries the source record\'s own bytes', () => {
    expect(record.key?.equals(letter.key as Buffer)).toBe(true)
    expect(record.value?.equals(letter.value as Buffer)).toBe(true)
  })

  it('keeps the original headers, subscription and source coordinates', () => {
    expect(text(record.headers.traceparent)).toBe('00-abc-def-01')
    expect(text(record.headers['content-type'])).toBe('application/vnd.kafka.avro')
    expect(Buffer.from(record.headers.binary as Buffer).equals(Buffer.from([0, 255, 1]))).toBe(true)
    expect(text(record.headers[H.subscriptionId])).toBe('sub-a')
    expect(text(record.headers[H.sourceTopic])).toBe('banking.transactions.v1')
    expect(text(record.headers[H.sourcePartition])).toBe('3')
    expect(text(record.headers[H.sourceOffset])).toBe('9007199254740993')
    expect(text(record.headers[H.sourceTimestamp])).toBe(String(T - 7_300_000))
  })

  it('has fresh delivery state: attempts 0, no first failure, no last status or error', () => {
    expect(text(record.headers[H.attempts])).toBe('0')
    expect(record.headers[H.firstFailureAt]).toBeUndefined()
    expect(record.headers[H.lastStatus]).toBeUndefined()
    expect(record.headers[H.lastError]).toBeUndefined()
  })

  it('is marked redriven (and parked) now, and no longer says it is a dead letter', () => {
    expect(text(record.headers[H.redrivenAt])).toBe(String(NOW))
    expect(text(record.headers[H.parkedAt])).toBe(String(NOW))
    expect(record.headers[H.reason]).toBeUndefined()
    expect(record.headers[H.deadLetteredAt]).toBeUndefined()
  })

  it('has exactly the source record\'s headers plus the retry format\'s', () => {
    expect(Object.keys(record.headers).sort()).toEqual([
      'binary', 'content-type', 'traceparent',
      H.attempts, H.parkedAt, H.redrivenAt, H.sourceOffset, H.sourcePartition, H.sourceTimestamp, H.sourceTopic, H.subscriptionId
    ].sort())
  })

  it('reads back through the retry lane\'s parser as a never-attempted delivery', () => {
    const state = readParkedState(consumed(record) as Parameters<typeof readParkedState>[0])
    expect(state.subscriptionId).toBe('sub-a')
    expect(state.source).toEqual({ topic: 'banking.transactions.v1', partition: 3, offset: 9_007_199_254_740_993n })
    expect(state.attempts).toBe(0)
    expect(state.firstFailureAt).toBeUndefined()
    expect(state.lastStatus).toBeUndefined()
    expect(state.lastError).toBeUndefined()
    expect(state.record.timestamp).toBe(T - 7_300_000)
    // whd-redriven-at travels with the record like its own (the lineage of a redrive).
    expect(Object.keys(state.record.headers).sort()).toEqual(['binary', 'content-type', 'traceparent', H.redrivenAt])
  })

  it('keeps a null key and a null value', () => {
    const decision = redriven(planRedrive(deadLetter({ account: null, value: null }), {}, options))
    expect(decision.record.key).toBeNull()
    expect(decision.record.value).toBeNull()
  })

  it('does not change the dead letter it was made from', () => {
    const input = deadLetter()
    const before = JSON.stringify(input)
    planRedrive(input, {}, options)
    expect(JSON.stringify(input)).toBe(before)
  })
})

describe('planRedrive: skipped letters', () => {
  it('skips an undecodable record: no subscription, no delivery to retry', () => {
    const decision = planRedrive(undecodableLetter({ reason: 'corrupt-avro' }), {}, options)
    expect(decision).toMatchObject({ kind: 'skip', reason: 'no-subscription', detail: expect.stringContaining('could not be decoded') })
    expect(decision.letter.reason).toBe('corrupt-avro')
  })

  it('reports it only when the filter selects it', () => {
    expect(planRedrive(undecodableLetter(), { reasons: ['bad-magic-byte'] }, options).kind).toBe('skip')
    expect(planRedrive(undecodableLetter(), { accountIds: ['acc-000001'] }, options).kind).toBe('skip')
    expect(planRedrive(undecodableLetter(), { subscriptionIds: ['sub-a'] }, options).kind).toBe('unmatched')
  })

  it('skips letters without source coordinates as malformed', () => {
    expect(planRedrive({ key: Buffer.from('acc-1'), value: Buffer.from('x') }, {}, options)).toMatchObject({ kind: 'skip', reason: 'malformed' })
    expect(planRedrive({
      key: Buffer.from('acc-1'),
      value: null,
      headers: { [H.subscriptionId]: 'sub-a', [H.sourceTopic]: 'banking.transactions.v1', [H.sourcePartition]: 'two', [H.sourceOffset]: '5' }
    }, {}, options)).toMatchObject({ kind: 'skip', reason: 'malformed' })
  })

  it('skips the dispatcher\'s "malformed-parked-record" letters (source partition and offset -1)', () => {
    const letter = deadLetter({ topic: 'unknown', partition: -1, offset: -1n, reason: 'malformed-parked-record' })
    expect(planRedrive(letter, {}, options)).toMatchObject({ kind: 'skip', reason: 'malformed' })
    const negativePartitionOnly = deadLetter({ partition: -1, offset: 5n })
    expect(planRedrive(negativePartitionOnly, {}, options)).toMatchObject({ kind: 'skip', reason: 'malformed', detail: expect.stringContaining('-1') })
  })

  it('judges the format before the subscription', () => {
    const noCoordinates = { key: Buffer.from('acc-1'), value: null, headers: { [H.reason]: 'bad-magic-byte' } }
    expect(planRedrive(noCoordinates, {}, options)).toMatchObject({ kind: 'skip', reason: 'malformed' })
  })

  it('names every skip reason in redriveSkipReasons', () => {
    expect([...redriveSkipReasons].sort()).toEqual(['already-redriven', 'malformed', 'no-subscription', 'retry-partition-missing', 'retry-topic-missing'])
  })
})

// The retry lane's own rules, applied to what the redrive writes: the
// record must be attempted at once and start a new retry budget.
describe('a redriven record in the retry lane', () => {
  function laneWith (now: () => number) {
    const deadLetters: string[] = []
    const effects: RetryLaneEffects = {
      nextAttempt: (task) => nextAttemptAt({ firstFailureAt: task.firstFailureAt ?? now(), attempts: Math.max(1, task.attempts), now: now(), schedule: [100, 200], maxAgeMs: 1000, random: () => 0.5 }),
      deadLetter: async (_source, _record, reason) => { deadLetters.push(reason) },
      disableEndpoint: () => undefined,
      onKeySettled: () => undefined,
      requestPump: () => undefined,
      move: async () => 0n,
      now
    }
    const lane = new RetryLane('banking.transactions.v1.retry', 3, effects, pino({ level: 'silent' }))
    lane.openGate()
    return { lane, deadLetters }
  }

  // What consumer.ts #planParked builds from a parked record.
  function taskFrom (letter: ReturnType<typeof deadLetter>): DeliveryTask {
    const state = readParkedState(consumed(redriven(planRedrive(letter, {}, options)).record) as Parameters<typeof readParkedState>[0])
    const task: DeliveryTask = {
      webhookId: 'evt-1', subscriptionId: state.subscriptionId as string, tenantId: 't', accountId: 'acc-000001', eventType: 'transaction.posted',
      occurredAt: T, body: '{}', source: state.source, record: state.record, attempts: state.attempts
    }
    if (state.firstFailureAt !== undefined) task.firstFailureAt = state.firstFailureAt
    return task
  }

  it('is due at once, whatever backoff its dead letter was in', () => {
    // A 410 dead-letters after one attempt, mid-backoff: carried over, that
    // state would hold the record back until its next slot (NOW + 50).
    const { lane } = laneWith(() => NOW)
    lane.accept(10n, { kind: 'retry', task: taskFrom(deadLetter({ reason: 'endpoint-gone', attempts: 1, firstFailureAt: NOW - 50 })) })
    expect(lane.takeReady(10, () => true)).toHaveLength(1)
    lane.close()
  })

  it('gets a new backoff clock from its first failure after the redrive', () => {
    const now = NOW
    const { lane, deadLetters } = laneWith(() => now)
    lane.accept(10n, { kind: 'retry', task: taskFrom(deadLetter({ attempts: 12, firstFailureAt: T - 86_400_000 })) })
    const [head] = lane.takeReady(10, () => true)
    if (head === undefined) throw new Error('nothing ready')
    // What DispatcherRuntime#execute does on a failed attempt.
    head.item.attempts++
    head.item.firstFailureAt ??= now
    lane.finish(head.key, head.item, { kind: 'failed', endpointGone: false })
    // With the old first-failure time this would be exhausted at once.
    expect(deadLetters).toEqual([])
    expect(head.item.firstFailureAt).toBe(NOW)
    expect(lane.takeReady(10, () => true)).toHaveLength(0)
    lane.close()
  })
})
