import avro from 'avsc'
import type { Type } from 'avsc'
import { describe, expect, it } from 'vitest'
import {
  avroTypeOptions, createEventCodec, EventDecodeError, EventValidationError, familySchema, familyType, frameWire, parseWireHeader,
  type FamilyName, type SchemaResolver
} from '../../../services/events/src/index.js'
import { exactLongType } from '../../../services/events/src/long.js'
import { accountStatusEvent, fraudAlertEvent, transactionEvent } from './fixtures.js'

const IDS: Record<FamilyName, number> = { transactions: 11, accounts: 12, fraud: 13 }

/** An in-memory registry: ids for the three families, built like the real one; `asked` lists the writer schemas looked up. */
function fakeResolver (): SchemaResolver & { calls: string[], asked: number[] } {
  const calls: string[] = []
  const asked: number[] = []
  const types = new Map<number, Type>(
    (Object.keys(IDS) as FamilyName[]).map((family) => [
      IDS[family],
      avro.Type.forSchema(familySchema(family) as Parameters<typeof avro.Type.forSchema>[0], avroTypeOptions())
    ])
  )
  types.set(99, avro.Type.forSchema({ type: 'record', name: 'Other', namespace: 'com.else', fields: [] }))
  return {
    calls,
    asked,
    async schemaId (family, topic) {
      calls.push(`${family}:${topic ?? 'default'}`)
      return IDS[family]
    },
    async writerType (id) {
      asked.push(id)
      const type = types.get(id)
      if (type === undefined) throw new EventDecodeError('unknown_schema_id', `no schema ${id}`, { schemaId: id })
      return type
    }
  }
}

async function decodeFailure (promise: Promise<unknown>): Promise<EventDecodeError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(EventDecodeError)
    return err as EventDecodeError
  }
  throw new Error('expected a decode failure')
}

describe('wire header', () => {
  it('frames and parses magic byte and big-endian schema id', () => {
    const framed = frameWire(0x01020304, Buffer.from([0xaa]))
    expect(framed.toString('hex')).toBe('0001020304aa')
    expect(parseWireHeader(framed)).toEqual({ schemaId: 0x01020304, payload: Buffer.from([0xaa]) })
  })

  it.each([[Buffer.alloc(0)], [Buffer.from([0, 0, 0, 1])]])('calls %s too short', (value) => {
    expect(() => parseWireHeader(value)).toThrow(expect.objectContaining({ code: 'WHE_ERR_DECODE', reason: 'record_too_short' }))
  })

  it.each([[null], [undefined]])('calls a %s value a tombstone, not a short record', (value) => {
    expect(() => parseWireHeader(value)).toThrow(expect.objectContaining({ code: 'WHE_ERR_DECODE', reason: 'tombstone', message: expect.stringMatching(/tombstone/) }))
  })

  it('calls a non-zero first byte a bad magic byte', () => {
    expect(() => parseWireHeader(Buffer.from([1, 0, 0, 0, 1, 2]))).toThrow(expect.objectContaining({ reason: 'bad_magic_byte' }))
    expect(() => parseWireHeader(Buffer.from('{"json":true}'))).toThrow(expect.objectContaining({ reason: 'bad_magic_byte' }))
  })

  it('accepts an empty body after a full header (an empty record decodes to nothing)', () => {
    expect(parseWireHeader(Buffer.from([0, 0, 0, 0, 5])).payload.length).toBe(0)
  })
})

describe('codec with a fake registry', () => {
  it.each([
    ['transactions', transactionEvent()],
    ['accounts', accountStatusEvent()],
    ['fraud', fraudAlertEvent()]
  ] as const)('round-trips a %s event', async (family, event) => {
    const registry = fakeResolver()
    const codec = createEventCodec({ registry })
    const value = await codec.encode(family, event)
    expect(value[0]).toBe(0)
    expect(value.readInt32BE(1)).toBe(IDS[family])
    const decoded = await codec.decode(value)
    expect(decoded.family).toBe(family)
    expect(decoded.schemaId).toBe(IDS[family])
    expect(decoded.event.occurredAt).toBeInstanceOf(Date)
    expect(decoded.event.occurredAt.getTime()).toBe(event.occurredAt.getTime())
    expect(decoded.event.eventId).toBe(event.eventId)
  })

  it('decodes decimals as strings with four fraction digits and absent optionals as null', async () => {
    const codec = createEventCodec({ registry: fakeResolver() })
    const { merchant: _merchant, balanceAfter: _balance, ...event } = transactionEvent({ amount: '7' })
    const decoded = await codec.decode(await codec.encode('transactions', event))
    expect(decoded.family).toBe('transactions')
    if (decoded.family !== 'transactions') return
    expect(decoded.event.amount).toBe('7.0000')
    expect(decoded.event.merchant).toBeNull()
    expect(decoded.event.balanceAfter).toBeNull()
    const full = await codec.decode(await codec.encode('transactions', transactionEvent()))
    if (full.family !== 'transactions') return
    expect(full.event.amount).toBe('1234.5000')
    expect(full.event.balanceAfter).toBe('-10.0001')
    expect(full.event.merchant).toEqual({ name: 'Corner Grocer', mcc: '5411', city: 'Berlin', country: 'DE' })
  })

  it('passes the topic override to the registry', async () => {
    const registry = fakeResolver()
    await createEventCodec({ registry }).encode('fraud', fraudAlertEvent(), { topic: 'custom.fraud' })
    expect(registry.calls).toEqual(['fraud:custom.fraud'])
  })

  it('validates before asking the registry', async () => {
    const registry = fakeResolver()
    const codec = createEventCodec({ registry })
    await expect(codec.encode('transactions', transactionEvent({ merchant: { name: 'x', mcc: '12' } })))
      .rejects.toThrow(expect.objectContaining({ code: 'WHE_ERR_VALIDATION', field: 'merchant.mcc' }))
    await expect(codec.encode('transactions', transactionEvent({ amount: '0.12345' }))).rejects.toBeInstanceOf(EventValidationError)
    expect(registry.calls).toEqual([])
  })

  it.each([
    ['truncated body', (value: Buffer) => value.subarray(0, value.length - 3)],
    ['trailing garbage', (value: Buffer) => Buffer.concat([value, Buffer.from([1, 2, 3])])],
    ['garbage body', (value: Buffer) => Buffer.concat([value.subarray(0, 5), Buffer.from('ffffffffffffffffff', 'hex')])],
    ['empty body', (value: Buffer) => value.subarray(0, 5)]
  ])('calls a %s corrupt Avro', async (_name, corrupt) => {
    const codec = createEventCodec({ registry: fakeResolver() })
    const value = await codec.encode('transactions', transactionEvent())
    const error = await decodeFailure(codec.decode(corrupt(value)))
    expect(error.reason).toBe('corrupt_avro')
    expect(error.schemaId).toBe(IDS.transactions)
  })

  it('reports an unknown id and a foreign schema', async () => {
    const codec = createEventCodec({ registry: fakeResolver() })
    expect((await decodeFailure(codec.decode(frameWire(5, Buffer.from([0]))))).reason).toBe('unknown_schema_id')
    expect((await decodeFailure(codec.decode(frameWire(99, Buffer.alloc(0))))).reason).toBe('unsupported_schema')
  })

  it('asks the registry for a writer schema once per id, and again after a failure (an id unknown now may be registered later)', async () => {
    const registry = fakeResolver()
    const codec = createEventCodec({ registry })
    const value = await codec.encode('transactions', transactionEvent())
    for (let i = 0; i < 3; i++) expect((await codec.decode(value)).family).toBe('transactions')
    for (let i = 0; i < 2; i++) expect((await decodeFailure(codec.decode(frameWire(5, Buffer.from([0]))))).reason).toBe('unknown_schema_id')
    for (let i = 0; i < 2; i++) expect((await decodeFailure(codec.decode(frameWire(99, Buffer.alloc(0))))).reason).toBe('unsupported_schema')
    expect(registry.asked).toEqual([IDS.transactions, 5, 5, 99, 99])
  })

  it('shares one lookup among the records that wait for the same schema', async () => {
    const registry = fakeResolver()
    const codec = createEventCodec({ registry })
    const value = await codec.encode('transactions', transactionEvent())
    const decoded = await Promise.all(Array.from({ length: 5 }, async () => await codec.decode(value)))
    expect(decoded.map((d) => d.family)).toEqual(Array(5).fill('transactions'))
    const failures = await Promise.all(Array.from({ length: 3 }, async () => await decodeFailure(codec.decode(frameWire(5, Buffer.from([0]))))))
    expect(failures.map((f) => f.reason)).toEqual(Array(3).fill('unknown_schema_id'))
    expect(registry.asked).toEqual([IDS.transactions, 5])
  })

  it('reads with the writer schema: an older version without a newer optional field', async () => {
    // A v2 writer with an extra optional field; the decoder uses the writer schema it finds by id.
    const v2 = structuredClone(familySchema('fraud'))
    v2.fields.push({ name: 'channel', type: ['null', 'string'], default: null, doc: 'new' })
    const v2Type = avro.Type.forSchema(v2 as Parameters<typeof avro.Type.forSchema>[0], avroTypeOptions())
    const registry: SchemaResolver = {
      schemaId: async () => 1,
      writerType: async (id) => (id === 2 ? v2Type : familyType('fraud'))
    }
    const codec = createEventCodec({ registry })
    const decoded = await codec.decode(frameWire(2, v2Type.toBuffer({ ...fraudAlertEvent(), channel: 'web' })))
    expect(decoded.family).toBe('fraud')
    expect((decoded.event as unknown as { channel: string }).channel).toBe('web')
  })
})

describe('longs beyond JavaScript\'s exact range', () => {
  const codec = (): ReturnType<typeof createEventCodec> => createEventCodec({ registry: { schemaId: async () => 1, writerType: async () => familyType('fraud') } })

  it.each([
    ['2^53 + 1, a legal Java long', 2n ** 53n + 1n],
    ['the largest long', 2n ** 63n - 1n]
  ])('decodes %s exactly, as a bigint', async (_, sequence) => {
    // familyType writes any 64-bit long, as Java can (events/long.ts).
    const body = familyType('fraud').toBuffer({ ...fraudAlertEvent(), accountSequence: sequence })
    const { event } = await codec().decode(frameWire(1, body))
    expect(event.accountSequence).toBe(sequence)
  })

  it('keeps safe values numbers, up to 2^53 - 1', async () => {
    for (const sequence of [1, Number.MAX_SAFE_INTEGER]) {
      const { event } = await codec().decode(frameWire(1, familyType('fraud').toBuffer({ ...fraudAlertEvent(), accountSequence: sequence })))
      expect(event.accountSequence).toBe(sequence)
    }
  })

  it('reads the same bytes avsc\'s own long writes (zig-zag varint on the wire)', () => {
    const plain = avro.Type.forSchema('long')
    for (const n of [0, 1, -1, 300, 2 ** 40, -(2 ** 40)]) {
      expect(exactLongType.toBuffer(n)).toEqual(plain.toBuffer(n))
      expect(exactLongType.fromBuffer(plain.toBuffer(n))).toBe(n)
      expect(plain.fromBuffer(exactLongType.toBuffer(n))).toBe(n)
    }
  })
})

describe('input contract: the event type belongs to the writer schema\'s family', () => {
  /** Writes any eventType, as a foreign producer can: the family schema's body, no validation. */
  function written (family: FamilyName, event: object): Buffer {
    return frameWire(IDS[family], familyType(family).toBuffer(event))
  }

  it.each([
    ['an account type written with the transaction schema', 'transactions', { ...transactionEvent(), eventType: 'account.opened' }, /not a transactions event type/],
    ['a transaction type written with the fraud schema', 'fraud', { ...fraudAlertEvent(), eventType: 'transaction.posted' }, /not a fraud event type/],
    ['an unknown transaction type', 'transactions', { ...transactionEvent(), eventType: 'transaction.exploded' }, /not one of the transactions event types/],
    ['an unknown account type', 'accounts', { ...accountStatusEvent(), eventType: 'account.opened2' }, /not one of the accounts event types/]
  ] as const)('refuses %s (event_type_not_in_family)', async (_, family, event, message) => {
    const codec = createEventCodec({ registry: fakeResolver() })
    const error = await decodeFailure(codec.decode(written(family, event)))
    expect(error.reason).toBe('event_type_not_in_family')
    expect(error.schemaId).toBe(IDS[family])
    expect(error.message).toMatch(message)
  })

  it('accepts every type the family defines', async () => {
    const codec = createEventCodec({ registry: fakeResolver() })
    for (const eventType of ['transaction.authorized', 'transaction.posted', 'transaction.declined', 'transaction.reversed'] as const) {
      const event = { ...transactionEvent(), eventType, declineReason: 'X', reversedTransactionId: 'txn-0', balanceAfter: '1.0000' }
      expect((await codec.decode(written('transactions', event))).event.eventType).toBe(eventType)
    }
  })

  it('takes the types a newer writer schema declares: a new type arrives with a schema change', async () => {
    const v2 = structuredClone(familySchema('fraud'))
    const field = v2.fields.find((f) => f.name === 'eventType') as { doc?: string }
    field.doc = 'One of: fraud_alert.raised, fraud_alert.resolved, fraud_alert.escalated.'
    const v2Type = avro.Type.forSchema(v2 as Parameters<typeof avro.Type.forSchema>[0], avroTypeOptions())
    const codec = createEventCodec({ registry: { schemaId: async () => 1, writerType: async (id) => (id === 2 ? v2Type : familyType('fraud')) } })
    const event = { ...fraudAlertEvent(), eventType: 'fraud_alert.escalated' }
    expect((await codec.decode(frameWire(2, v2Type.toBuffer(event)))).event.eventType).toBe('fraud_alert.escalated')
    // The same type under the current schema, which does not declare it, is refused.
    expect((await decodeFailure(codec.decode(frameWire(1, familyType('fraud').toBuffer(event))))).reason).toBe('event_type_not_in_family')
  })
})
