/**
 * The attempts topic's record format: Confluent wire format (magic byte,
 * schema id, Avro binary) of schemas/delivery-attempt.avsc, key = event id.
 * Pure: the schema id comes from the caller, and decoding takes the writer
 * type the record's schema id names, so older and newer writers both read.
 */
import avro from 'avsc'
import type { Type } from 'avsc'
import { MAGIC_BYTE, parseWireHeader, schemaFileString, WIRE_HEADER_LENGTH } from '../../../events/src/index.js'
import type { AttemptEntry } from '../engine/attempt-log.js'

export const ATTEMPT_SCHEMA_FILE = 'delivery-attempt.avsc'

let readerType: Type | undefined

/** The schema text registered under `<attempts topic>-value`. */
export function attemptSchemaString (): string {
  return schemaFileString(ATTEMPT_SCHEMA_FILE)
}

/** The schema as this code writes and reads it: logical types left as their base types (epoch milliseconds, strings). */
export function attemptType (): Type {
  readerType ??= avro.Type.forSchema(JSON.parse(attemptSchemaString()) as avro.Schema)
  return readerType
}

/** The Avro record of an entry: absent optional fields are null. */
function toAvro (e: AttemptEntry): Record<string, unknown> {
  return {
    attemptId: e.attemptId,
    eventId: e.eventId,
    eventType: e.eventType,
    tenantId: e.tenantId,
    subscriptionId: e.subscriptionId,
    accountId: e.accountId,
    occurredAt: e.occurredAt,
    sourceTopic: e.sourceTopic,
    sourcePartition: e.sourcePartition,
    sourceOffset: Number(e.sourceOffset),
    attemptNumber: e.attemptNumber,
    lane: e.lane,
    kind: e.kind,
    outcome: e.outcome,
    startedAt: e.startedAt,
    durationMs: e.durationMs ?? null,
    httpStatus: e.httpStatus ?? null,
    errorCode: e.errorCode ?? null,
    nextAttemptAt: e.nextAttemptAt ?? null,
    responseBodyPrefix: e.responseBodyPrefix ?? null
  }
}

/** Where records are encoded before their copy: one buffer for the thread, grown when a record does not fit. */
let scratch = Buffer.allocUnsafe(4096)

/**
 * The record's value. Encoded in place after the wire header and copied
 * once into Node's pooled small buffers: avsc's toBuffer and frameWire
 * allocate three unpooled buffers a record, a tenth of the writer
 * thread's time at W1 (bench/history.md).
 */
export function encodeAttempt (entry: AttemptEntry, schemaId: number): Buffer {
  const value = toAvro(entry)
  for (;;) {
    scratch.writeUInt8(MAGIC_BYTE, 0)
    scratch.writeInt32BE(schemaId, 1)
    const end = attemptType().encode(value, scratch, WIRE_HEADER_LENGTH)
    if (end >= 0) return Buffer.from(scratch.subarray(0, end))
    // avsc answers how many bytes were missing.
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end))
  }
}

// A writer built with the project's logical types gives Dates; one without, numbers.
function millis (value: unknown): number {
  return value instanceof Date ? value.getTime() : Number(value)
}

function optional<T> (value: T | null | undefined): T | undefined {
  return value === null ? undefined : value
}

/** The schema id a record was written with, and its Avro payload. Throws on a value that is not wire format. */
export function attemptWireHeader (value: Buffer | null): { schemaId: number, payload: Buffer } {
  return parseWireHeader(value)
}

// A resolver per writer type, made once: making one costs 70 us, a
// record's decode 1 us, and every record of an older (or newer) writer needs it.
const resolvers = new WeakMap<Type, avro.Resolver>()

function resolverFor (reader: Type, writer: Type): avro.Resolver {
  let resolver = resolvers.get(writer)
  if (resolver === undefined) {
    resolver = reader.createResolver(writer)
    resolvers.set(writer, resolver)
  }
  return resolver
}

/** Decodes a record's payload with its writer's type into an entry. Throws on corrupt Avro. */
export function decodeAttempt (payload: Buffer, writer: Type): AttemptEntry {
  const reader = attemptType()
  const resolver = writer === reader ? undefined : resolverFor(reader, writer)
  const r = (resolver === undefined ? reader.fromBuffer(payload) : reader.fromBuffer(payload, resolver)) as Record<string, unknown>
  const entry: AttemptEntry = {
    attemptId: r.attemptId as string,
    eventId: r.eventId as string,
    eventType: r.eventType as string,
    tenantId: r.tenantId as string,
    subscriptionId: r.subscriptionId as string,
    accountId: r.accountId as string,
    occurredAt: millis(r.occurredAt),
    sourceTopic: r.sourceTopic as string,
    sourcePartition: r.sourcePartition as number,
    sourceOffset: BigInt(r.sourceOffset as number),
    attemptNumber: r.attemptNumber as number,
    lane: r.lane as AttemptEntry['lane'],
    kind: r.kind as AttemptEntry['kind'],
    outcome: r.outcome as AttemptEntry['outcome'],
    startedAt: millis(r.startedAt)
  }
  const durationMs = optional(r.durationMs as number | null)
  const httpStatus = optional(r.httpStatus as number | null)
  const errorCode = optional(r.errorCode as string | null)
  const nextAttemptAt = optional(r.nextAttemptAt as unknown)
  const responseBodyPrefix = optional(r.responseBodyPrefix as string | null)
  if (durationMs !== undefined) entry.durationMs = durationMs
  if (httpStatus !== undefined) entry.httpStatus = httpStatus
  if (errorCode !== undefined) entry.errorCode = errorCode
  if (nextAttemptAt !== undefined) entry.nextAttemptAt = millis(nextAttemptAt)
  if (responseBodyPrefix !== undefined) entry.responseBodyPrefix = responseBodyPrefix
  return entry
}
