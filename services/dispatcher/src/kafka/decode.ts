import type { EventCodec } from '../../../events/src/index.js'
import type { DecodedEvent } from '../engine/delivery-task.js'
import type { RecordDecoder } from '../engine/record-plan.js'
import { DecodeError, RegistryUnavailableError, type DecodeFailureReason } from '../errors.js'

const envelopeStrings = ['eventId', 'eventType', 'tenantId', 'accountId'] as const

/** Checks that a decoded value carries the envelope the dispatcher routes on. */
export function asDecodedEvent (value: unknown): DecodedEvent {
  if (typeof value !== 'object' || value === null) throw new DecodeError('missing-field', 'decoded value is not a record')
  const record = value as Record<string, unknown>
  for (const field of envelopeStrings) {
    if (typeof record[field] !== 'string' || record[field] === '') throw new DecodeError('missing-field', `decoded event lacks ${field}`)
  }
  if (!(record.occurredAt instanceof Date)) throw new DecodeError('missing-field', 'decoded event lacks occurredAt')
  if (typeof record.accountSequence !== 'number' && typeof record.accountSequence !== 'bigint') throw new DecodeError('missing-field', 'decoded event lacks accountSequence')
  return record as DecodedEvent
}

// The events module names reasons in snake_case; dead-letter reasons and
// metric labels here are kebab-case like every other dispatcher reason.
const reasonFromEvents: Record<string, DecodeFailureReason> = {
  tombstone: 'tombstone',
  record_too_short: 'record-too-short',
  bad_magic_byte: 'bad-magic-byte',
  unknown_schema_id: 'unknown-schema-id',
  corrupt_avro: 'corrupt-avro',
  unsupported_schema: 'unknown-event-type',
  event_type_not_in_family: 'event-type-not-in-family',
  negative_amount: 'negative-amount'
}

/** A {@link RecordDecoder} on the shared events codec (registry-backed, cached). */
export function createRecordDecoder (codec: Pick<EventCodec, 'decode'>): RecordDecoder {
  return async (value) => {
    let decoded: { event: unknown }
    try {
      decoded = await codec.decode(value)
    } catch (err) {
      const { code, reason, message } = err as { code?: string, reason?: string, message?: string }
      if (code === 'WHE_ERR_REGISTRY_UNAVAILABLE') throw new RegistryUnavailableError(message ?? 'schema registry unavailable', { cause: err })
      if (code === 'WHE_ERR_DECODE') throw new DecodeError(reasonFromEvents[reason ?? ''] ?? 'corrupt-avro', message ?? 'undecodable record', { cause: err })
      throw new DecodeError('corrupt-avro', message ?? String(err), { cause: err })
    }
    return asDecodedEvent(decoded.event)
  }
}
