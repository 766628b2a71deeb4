/**
 * Events ↔ Kafka record values in the Confluent wire format: magic byte 0,
 * the schema id as a 4-byte big-endian integer, then the Avro binary body.
 * Java, Python and Go Confluent serializers read and write the same bytes.
 *
 * https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */
import { familyType } from './avro.js'
import { DecodeFailureReason, EventDecodeError, EventValidationError } from './errors.js'
import { declaredEventTypes, eventTypeProblem, familyOfRecordName, type BankingEvent, type FamilyEventMap, type FamilyName, type SubjectNameStrategy } from './families.js'
import type { Type } from 'avsc'
import { keptLookups } from './kept-lookups.js'
import type { SchemaResolver } from './registry.js'
import { validateEvent } from './validate.js'

export const MAGIC_BYTE = 0
export const WIRE_HEADER_LENGTH = 5

/** Splits a record value into schema id and Avro body, or says why not. */
export function parseWireHeader (value: Buffer | null | undefined): { schemaId: number, payload: Buffer } {
  if (value === null || value === undefined) {
    throw new EventDecodeError(DecodeFailureReason.Tombstone, 'record has a null value (a tombstone), not an event')
  }
  if (value.length < WIRE_HEADER_LENGTH) {
    throw new EventDecodeError(DecodeFailureReason.RecordTooShort, `record is too short for the wire format (${value.length} bytes; needs at least ${WIRE_HEADER_LENGTH})`)
  }
  const magic = value.readUInt8(0)
  if (magic !== MAGIC_BYTE) {
    throw new EventDecodeError(DecodeFailureReason.BadMagicByte, `record starts with byte ${magic}, not the wire-format magic byte ${MAGIC_BYTE}`)
  }
  return { schemaId: value.readInt32BE(1), payload: value.subarray(WIRE_HEADER_LENGTH) }
}

/** Prefixes an Avro body with the wire-format header. */
export function frameWire (schemaId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(WIRE_HEADER_LENGTH)
  header.writeUInt8(MAGIC_BYTE, 0)
  header.writeInt32BE(schemaId, 1)
  return Buffer.concat([header, payload])
}

export type DecodedEvent = {
  [F in FamilyName]: { schemaId: number, family: F, event: FamilyEventMap[F] }
}[FamilyName]

export interface EventCodec {
  /**
   * Validates, then encodes. `topic` and `strategy` pick the subject (see
   * {@link SchemaResolver.schemaId}): the default layout's
   * `<topic>-<record name>` when both are omitted, `<topic>-value` for a
   * topic alone. Throws EventValidationError before any registry call when
   * the event is invalid.
   */
  encode: <F extends FamilyName>(family: F, event: FamilyEventMap[F], options?: { topic?: string, strategy?: SubjectNameStrategy }) => Promise<Buffer>
  /**
   * Decodes a record value with its writer schema; the family is the writer
   * schema's record name, whatever the topic. Throws EventDecodeError (see
   * `reason`) for bad input, including an `eventType` the family does not
   * define, and RegistryUnavailableError when the registry cannot answer.
   */
  decode: (value: Buffer | null | undefined) => Promise<DecodedEvent>
}

/** What decoding needs of one writer schema, worked out once per schema id. */
interface WriterSchema {
  type: Type
  family: FamilyName
  declared: readonly string[] | undefined
}

export function createEventCodec ({ registry }: { registry: SchemaResolver }): EventCodec {
  // A schema id names one schema for good (registries never reuse an id), so
  // what it resolves to is kept: a decode is then one map lookup, not a
  // registry-client call, a doc parse and a regex per record. Failures are
  // not kept: an id unknown now may be registered later.
  const writers = keptLookups(async (schemaId: number): Promise<WriterSchema> => {
    const type = await registry.writerType(schemaId)
    const family = familyOfRecordName(type.name)
    if (family === undefined) {
      throw new EventDecodeError(DecodeFailureReason.UnsupportedSchema, `schema ${schemaId} is ${type.name ?? 'unnamed'}, not a banking event`, { schemaId })
    }
    const eventTypeDoc = (type as { field?: (name: string) => { doc?: string } | undefined }).field?.('eventType')?.doc
    return { type, family, declared: declaredEventTypes(eventTypeDoc) }
  })

  return {
    async encode (family, event, options = {}) {
      validateEvent(family, event)
      const schemaId = await registry.schemaId(family, options.topic, options.strategy)
      return frameWire(schemaId, encodeBody(family, event))
    },
    async decode (value) {
      const { schemaId, payload } = parseWireHeader(value)
      const { type, family, declared } = await writers.get(schemaId)
      let event: unknown
      try {
        event = type.fromBuffer(payload)
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err)
        throw new EventDecodeError(DecodeFailureReason.CorruptAvro, `record body does not decode with schema ${schemaId}: ${why}`, { schemaId, cause: err })
      }
      const problem = eventTypeProblem(family, (event as { eventType?: unknown } | null)?.eventType, declared)
      if (problem !== undefined) {
        throw new EventDecodeError(DecodeFailureReason.EventTypeNotInFamily, `record of schema ${schemaId}: ${problem}`, { schemaId })
      }
      const amount = (event as { amount?: unknown }).amount
      if (typeof amount === 'string' && amount.startsWith('-')) {
        throw new EventDecodeError(DecodeFailureReason.NegativeAmount, `record of schema ${schemaId}: amount ${amount} is negative; amounts are magnitudes, direction gives the sign`, { schemaId })
      }
      return { schemaId, family, event } as DecodedEvent
    }
  }
}

/** The Avro body of an event already validated as one of `family`. */
export function encodeBody (family: FamilyName, event: BankingEvent): Buffer {
  try {
    return familyType(family).toBuffer(event)
  } catch (err) {
    // validateEvent runs first, so this means a rule is missing there.
    throw new EventValidationError([{ field: '', message: err instanceof Error ? err.message : String(err) }], { family, cause: err })
  }
}
