/**
 * avsc options shared by every Avro type this project builds, locally or
 * from a writer schema fetched from the registry, so both sides agree on
 * decoded values (decimal strings, Dates).
 */
import avro from 'avsc'
import type { Type } from 'avsc'
import { DecimalType } from './decimal.js'
import { familySchema, type FamilyName } from './families.js'
import { exactLongType } from './long.js'
import { TimestampMillisType } from './timestamp.js'

export const LOGICAL_TYPES = Object.freeze({
  decimal: DecimalType,
  'timestamp-millis': TimestampMillisType
})

/**
 * Options for `Type.forSchema`, fresh on each call because avsc writes its
 * registry of named types into the object it is given.
 * `assertLogicalTypes`: a malformed decimal in a schema fails loudly instead
 * of silently decoding as raw bytes (the Avro spec's fallback).
 * `typeHook`: every plain long reads exactly, beyond 2^53 as a bigint
 * (long.ts). A hook, not `registry: { long }`: the registry client copies
 * these options shallowly for every schema, so a registry object would be
 * shared, and the second schema with the same record name would fail as a
 * duplicate. Logical types on long (timestamp-millis) keep avsc's own long
 * underneath: a Date cannot hold 2^53 ms anyway.
 */
export function avroTypeOptions (): { logicalTypes: typeof LOGICAL_TYPES, assertLogicalTypes: true, omitRecordMethods: true, typeHook: (schema: unknown) => Type | undefined } {
  return { logicalTypes: LOGICAL_TYPES, assertLogicalTypes: true, omitRecordMethods: true, typeHook: exactLongHook }
}

function exactLongHook (schema: unknown): Type | undefined {
  if (schema === 'long') return exactLongType
  if (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long' && (schema as { logicalType?: unknown }).logicalType === undefined) return exactLongType
  return undefined
}

const familyTypes = new Map<FamilyName, Type>()

/** The avsc type of the family's current schema (the one this code writes). */
export function familyType (family: FamilyName): Type {
  let type = familyTypes.get(family)
  if (type === undefined) {
    type = avro.Type.forSchema(familySchema(family) as Parameters<typeof avro.Type.forSchema>[0], avroTypeOptions())
    familyTypes.set(family, type)
  }
  return type
}
