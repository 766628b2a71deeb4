import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { DecodedEvent, DeliveryTask, RawRecord, RecordCoordinates } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { toParkedRecord } from '../../../../services/dispatcher/src/engine/parked-record.js'
import { createRecordPlanner, type RecordDecoder } from '../../../../services/dispatcher/src/engine/record-plan.js'
import { DecodeError, RegistryUnavailableError } from '../../../../services/dispatcher/src/errors.js'
import { createMetrics } from '../../../../services/dispatcher/src/metrics.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'

const event: DecodedEvent = { eventId: 'evt-1', eventType: 'transaction.posted', tenantId: 't1', accountId: 'acc-1', accountSequence: 4, occurredAt: new Date(1000), amount: '1.50', currency: 'EUR' }
const subs: Subscription[] = [
  { id: 'sub-all', tenantId: 't1', url: 'https://a.test/', eventTypes: ['*'], secrets: ['whsec_a'], enabled: true },
  { id: 'sub-fraud', tenantId: 't1', url: 'https://b.test/', eventTypes: ['fraud.*'], secrets: ['whsec_b'], enabled: true }
]
const at = (offset: bigint): RecordCoordinates => ({ topic: 'src', partition: 3, offset })
const record = (value: string): RawRecord => ({ key: Buffer.from('acc-1'), value: Buffer.from(value), headers: {}, timestamp: 1000 })

/** A planner whose decoder answers by the record's text: ok, corrupt, unknown-schema, registry-down. */
function planner (schemaLookupRetries = 2) {
  const decode: RecordDecoder = async (value) => {
    switch (value?.toString()) {
      case 'ok': return event
      case 'unknown-schema': throw new DecodeError('unknown-schema-id', 'no schema 99')
      case 'registry-down': throw new RegistryUnavailableError('503')
      default: throw new DecodeError('corrupt-avro', 'bad union index')
    }
  }
  const metrics = createMetrics()
  const p = createRecordPlanner({
    decode,
    subscriptions: { forTenant: (tenant) => subs.filter((s) => s.tenantId === tenant), get: (id) => subs.find((s) => s.id === id), all: () => subs, disable: () => {} },
    metrics,
    schemaLookupRetries,
    log: pino({ level: 'silent' })
  })
  return { p, metrics }
}

describe('record planner: source records', () => {
  it('matches a decoded event to the tenant\'s subscriptions and builds its body once', async () => {
    const plan = await planner().p.planSource(record('ok'), at(7n), new Map())
    expect(plan).toMatchObject({ kind: 'deliver', event, subscriptions: [subs[0]] })
    expect(JSON.parse((plan as { body: string }).body)).toMatchObject({ type: 'transaction.posted', data: { amount: '1.50' } })
  })

  it('drops, counted, an event no subscription of its tenant matches', async () => {
    const metrics = createMetrics()
    const p = createRecordPlanner({
      decode: async () => ({ ...event, tenantId: 't3' }),
      subscriptions: { forTenant: (tenant) => subs.filter((s) => s.tenantId === tenant), get: () => undefined, all: () => subs, disable: () => {} },
      metrics,
      schemaLookupRetries: 0,
      log: pino({ level: 'silent' })
    })
    expect(await p.planSource(record('ok'), at(8n), new Map())).toEqual({ kind: 'drop', reason: 'no-subscription' })
    expect((await metrics.dropped.get()).values.find((v) => v.labels.reason === 'no-subscription')?.value).toBe(1)
  })

  it('dead-letters bad input with its reason; pauses, dead-lettering nothing, while the registry is down', async () => {
    const { p, metrics } = planner()
    expect(await p.planSource(record('garbage'), at(1n), new Map())).toEqual({ kind: 'dead-letter', reason: 'corrupt-avro', detail: 'bad union index' })
    expect(await p.planSource(record('registry-down'), at(2n), new Map())).toEqual({ kind: 'later', delayMs: 1000 })
    expect((await metrics.registryErrors.get()).values[0]?.value).toBe(1)
    expect((await metrics.decodeErrors.get()).values.find((v) => v.labels.reason === 'corrupt-avro')?.value).toBe(1)
  })

  it('logs a dead-lettered record with its topic, partition, offset, reason and detail', async () => {
    const lines: Array<Record<string, unknown>> = []
    const p = createRecordPlanner({
      decode: async () => { throw new DecodeError('tombstone', 'record has a null value (a tombstone), not an event') },
      subscriptions: { forTenant: () => [], get: () => undefined, all: () => [], disable: () => {} },
      metrics: createMetrics(),
      schemaLookupRetries: 0,
      log: pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
    })
    await p.planSource(record(''), at(41n), new Map())
    expect(lines).toEqual([expect.objectContaining({
      level: 40, topic: 'src', partition: 3, offset: '41', reason: 'tombstone', detail: 'record has a null value (a tombstone), not an event', msg: 'undecodable record; dead-lettering'
    })])
  })

  it('looks an unknown schema id up SCHEMA_LOOKUP_RETRIES more times, backing off, before dead-lettering it', async () => {
    const { p } = planner(2)
    const misses = new Map<bigint, number>()
    expect(await p.planSource(record('unknown-schema'), at(5n), misses)).toEqual({ kind: 'later', delayMs: 500 })
    expect(await p.planSource(record('unknown-schema'), at(5n), misses)).toEqual({ kind: 'later', delayMs: 1000 })
    expect(await p.planSource(record('unknown-schema'), at(5n), misses)).toEqual({ kind: 'dead-letter', reason: 'unknown-schema-id', detail: 'no schema 99' })
    expect(misses.size).toBe(0)
  })
})

describe('record planner: parked records', () => {
  const parkedTask: DeliveryTask = {
    webhookId: 'evt-1', subscriptionId: 'sub-all', tenantId: 't1', accountId: 'acc-1', eventType: 'transaction.posted', occurredAt: 1000,
    body: '{}', source: { topic: 'src', partition: 2, offset: 41n }, record: record('ok'), attempts: 3, firstFailureAt: 500, lastStatus: 503, lastError: 'HTTP 503', notBefore: 9000
  }
  const at = { topic: 'src.retry', partition: 2, offset: 6n }
  const parked = (task: DeliveryTask): RawRecord => {
    const out = toParkedRecord(task, 2000)
    return { key: out.key, value: out.value, headers: out.headers, timestamp: 2000 }
  }

  it('rebuilds the delivery with its attempt state and Retry-After', async () => {
    const plan = await planner().p.planParked(parked(parkedTask), at)
    expect(plan.kind).toBe('retry')
    const task = (plan as { task: DeliveryTask }).task
    expect(task).toMatchObject({ webhookId: 'evt-1', subscriptionId: 'sub-all', attempts: 3, firstFailureAt: 500, lastStatus: 503, lastError: 'HTTP 503', notBefore: 9000, source: { topic: 'src', partition: 2, offset: 41n } })
    expect(JSON.parse(task.body)).toMatchObject({ type: 'transaction.posted' })
  })

  it('drops a parked delivery whose subscription was deleted; dead-letters one nobody\'s dispatcher wrote, with where it sat', async () => {
    const { p } = planner()
    expect(await p.planParked(parked({ ...parkedTask, subscriptionId: 'gone' }), at)).toEqual({ kind: 'drop', reason: 'subscription-deleted' })
    const foreign = record('ok')
    expect(await p.planParked(foreign, at)).toEqual({ kind: 'dead-letter', reason: 'malformed-parked-record', source: at, record: foreign })
  })

  it('dead-letters a parked record whose event no longer decodes, keeping its delivery state', async () => {
    const plan = await planner().p.planParked(parked({ ...parkedTask, record: record('garbage') }), at)
    expect(plan).toMatchObject({ kind: 'dead-letter', reason: 'corrupt-avro', source: parkedTask.source, delivery: { subscriptionId: 'sub-all', attempts: 3 } })
  })
})
