import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import type { AttemptEntry } from '../../../../services/dispatcher/src/engine/attempt-log.js'
import { attemptSchemaString, attemptType, attemptWireHeader, decodeAttempt, encodeAttempt } from '../../../../services/dispatcher/src/history/attempt-codec.js'

const entry = (over: Partial<AttemptEntry> = {}): AttemptEntry => ({
  attemptId: 'att-1',
  eventId: 'evt-1',
  eventType: 'transaction.created',
  tenantId: 'tenant-000',
  subscriptionId: 'sub-1',
  accountId: 'acc-1',
  occurredAt: 1_764_000_000_000,
  sourceTopic: 'core.transactions',
  sourcePartition: 3,
  sourceOffset: 123_456n,
  attemptNumber: 1,
  lane: 'source',
  kind: 'attempt',
  outcome: 'delivered',
  startedAt: 1_764_000_000_100,
  durationMs: 4,
  httpStatus: 204,
  ...over
})

const roundTrip = (value: Buffer): { schemaId: number, entry: AttemptEntry } => {
  const { schemaId, payload } = attemptWireHeader(value)
  return { schemaId, entry: decodeAttempt(payload, attemptType()) }
}

describe('attempt records (Confluent wire format of delivery-attempt.avsc)', () => {
  it('encode each entry to a buffer of its own, which later encodings leave as it was', () => {
    const first = encodeAttempt(entry({ eventId: 'evt-first' }), 7)
    const copy = Buffer.from(first)
    const second = encodeAttempt(entry({ eventId: 'evt-second', outcome: 'failed', httpStatus: 503 }), 8)
    expect(first.equals(copy)).toBe(true)
    expect(roundTrip(first)).toEqual({ schemaId: 7, entry: entry({ eventId: 'evt-first' }) })
    expect(roundTrip(second)).toEqual({ schemaId: 8, entry: entry({ eventId: 'evt-second', outcome: 'failed', httpStatus: 503 }) })
  })

  it('encode a record larger than the encoding buffer, and small ones after it', () => {
    const big = entry({ responseBodyPrefix: 'x'.repeat(50_000), errorCode: 'é'.repeat(3000) })
    expect(roundTrip(encodeAttempt(big, 9))).toEqual({ schemaId: 9, entry: big })
    expect(roundTrip(encodeAttempt(entry(), 9))).toEqual({ schemaId: 9, entry: entry() })
  })

  it('decode records of other writers, each with its own schema, record after record', () => {
    const schema = JSON.parse(attemptSchemaString()) as { fields: Array<{ name: string }> }
    const older = avro.Type.forSchema({ ...schema, fields: schema.fields.filter((f) => f.name !== 'responseBodyPrefix') } as avro.Schema)
    const sameText = avro.Type.forSchema(schema as avro.Schema)
    const { payload } = attemptWireHeader(encodeAttempt(entry({ responseBodyPrefix: 'ok' }), 1))
    const olderPayload = older.toBuffer({ ...older.fromBuffer(payload, older.createResolver(attemptType())) })
    for (let i = 0; i < 3; i++) {
      expect(decodeAttempt(olderPayload, older)).toEqual(entry())
      expect(decodeAttempt(payload, sameText)).toEqual(entry({ responseBodyPrefix: 'ok' }))
    }
  })
})
