import type { IHeaders } from 'kafkajs'
import type { DeliveryTask, RecordCoordinates } from './delivery-task.js'

/**
 * A delivery task packed into one buffer: how a retry lane holds a parked
 * delivery that waits behind its key's head (issue 14). A task object holds
 * about 1.4 KB of V8 heap (a dozen strings, the signed body among them,
 * several objects, buffers and bigints); packed, its bytes sit in a slab
 * shared with other packed tasks ({@link PackArena}), outside the heap.
 * Unpacked again when it becomes its key's head. Pure: no I/O.
 *
 * What the lane keeps beside the buffer is not packed: the subscription id
 * and the source coordinates.
 *
 * Layout: a flags byte; occurredAt, the record timestamp and attempts; the
 * optional numbers the flags name; the strings (u32 length, UTF-8); the key
 * and value (u32 length, absent when the flags say null); the headers (u16
 * count; name, a byte telling a string from bytes, the value).
 */

const HAS_FIRST_FAILURE = 1
const HAS_LAST_FAILURE = 2
const HAS_LAST_STATUS = 4
const HAS_LAST_ERROR = 8
const HAS_NOT_BEFORE = 16
const HAS_REDRIVEN_AT = 32
const KEY_NULL = 64
const VALUE_NULL = 128

type HeaderValue = string | Buffer

// Headers as a parked delivery keeps them: the first value of each
// (parked-record.ts keeps no repeated header), strings as they came.
function headerEntries (headers: IHeaders): Array<[string, HeaderValue]> {
  const entries: Array<[string, HeaderValue]> = []
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) entries.push([name, first])
  }
  return entries
}

const strings = (task: DeliveryTask): string[] => [task.webhookId, task.tenantId, task.accountId, task.eventType, task.body]

/** Where a packed task sits: bytes `at` … `at + length` of `slab`. */
export interface PackedRef {
  slab: Buffer
  at: number
  length: number
}

/**
 * Slab size: above glibc's mmap threshold as the image fixes it (128 KiB,
 * see the Dockerfile), so each slab is a mapping of its own, returned to the
 * system when freed. Slabs of 8 KiB came from malloc's heap, where, being
 * long-lived, they sat between the short-lived buffers of a parking burst
 * and kept that space from being trimmed (bench/backlog.md).
 */
export const SLAB_BYTES = 256 * 1024

/**
 * Slabs that packed tasks are written into one after another, so a held
 * task costs no buffer object of its own (a view is about 100 bytes of
 * heap). A slab is freed by the garbage collector once no task packed in
 * it is held: one long-held task keeps its slab alive.
 */
export class PackArena {
  readonly #slabSize: number
  #slab: Buffer | undefined
  #used = 0

  constructor (slabSize = SLAB_BYTES) {
    this.#slabSize = slabSize
  }

  /** Packs `task` into the current slab (a new one when it is full; a buffer of its own when the task is large). */
  pack (task: DeliveryTask): PackedRef {
    const parts = partsOf(task)
    const size = packedSize(parts)
    if (size > this.#slabSize / 2) {
      const own = Buffer.allocUnsafeSlow(size)
      writePacked(parts, own, 0)
      return { slab: own, at: 0, length: size }
    }
    if (this.#slab === undefined || this.#used + size > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(this.#slabSize)
      this.#used = 0
    }
    const at = this.#used
    writePacked(parts, this.#slab, at)
    this.#used += size
    return { slab: this.#slab, at, length: size }
  }
}

// What a task is packed from, gathered once for sizing and writing.
interface Parts {
  flags: number
  numbers: number[]
  texts: string[]
  key: Buffer | null
  value: Buffer | null
  headers: Array<[string, HeaderValue]>
}

function partsOf (task: DeliveryTask): Parts {
  const headers = headerEntries(task.record.headers)
  let flags = 0
  const numbers: number[] = [task.occurredAt, task.record.timestamp, task.attempts]
  const optional: Array<[number, number | undefined]> = [
    [HAS_FIRST_FAILURE, task.firstFailureAt], [HAS_LAST_FAILURE, task.lastFailureAt], [HAS_LAST_STATUS, task.lastStatus],
    [HAS_NOT_BEFORE, task.notBefore], [HAS_REDRIVEN_AT, task.redrivenAt]
  ]
  for (const [flag, value] of optional) {
    if (value === undefined) continue
    flags |= flag
    numbers.push(value)
  }
  const texts = strings(task)
  if (task.lastError !== undefined) {
    flags |= HAS_LAST_ERROR
    texts.push(task.lastError)
  }
  const { key, value } = task.record
  if (key === null) flags |= KEY_NULL
  if (value === null) flags |= VALUE_NULL
  return { flags, numbers, texts, key, value, headers }
}

/** The bytes {@link writePacked} writes. */
function packedSize ({ numbers, texts, key, value, headers }: Parts): number {
  let size = 1 + numbers.length * 8 + 2
  for (const text of texts) size += 4 + Buffer.byteLength(text)
  if (key !== null) size += 4 + key.length
  if (value !== null) size += 4 + value.length
  for (const [name, value] of headers) size += 4 + Buffer.byteLength(name) + 1 + 4 + (typeof value === 'string' ? Buffer.byteLength(value) : value.length)
  return size
}

/** Writes the parts packed into `out` from `start` ({@link packedSize} bytes). */
function writePacked ({ flags, numbers, texts, key, value, headers }: Parts, out: Buffer, start: number): void {
  let at = out.writeUInt8(flags, start)
  for (const value of numbers) at = out.writeDoubleLE(value, at)
  const writeText = (text: string): void => {
    const length = out.write(text, at + 4)
    out.writeUInt32LE(length, at)
    at += 4 + length
  }
  const writeBytes = (bytes: Buffer): void => {
    at = out.writeUInt32LE(bytes.length, at)
    at += bytes.copy(out, at)
  }
  for (const text of texts) writeText(text)
  if (key !== null) writeBytes(key)
  if (value !== null) writeBytes(value)
  at = out.writeUInt16LE(headers.length, at)
  for (const [name, header] of headers) {
    writeText(name)
    at = out.writeUInt8(typeof header === 'string' ? 1 : 0, at)
    if (typeof header === 'string') writeText(header)
    else writeBytes(header)
  }
}

/**
 * The task packed by {@link PackArena.pack}, with the parts kept beside it. Its
 * key, value and header buffers are views of `packed`.
 */
export function unpackTask (packed: Buffer, subscriptionId: string, source: RecordCoordinates): DeliveryTask {
  let at = 0
  const flags = packed.readUInt8(at++)
  const number = (): number => {
    const value = packed.readDoubleLE(at)
    at += 8
    return value
  }
  const bytes = (): Buffer => {
    const length = packed.readUInt32LE(at)
    at += 4
    const view = packed.subarray(at, at + length)
    at += length
    return view
  }
  const text = (): string => bytes().toString('utf8')
  const occurredAt = number()
  const timestamp = number()
  const attempts = number()
  const firstFailureAt = (flags & HAS_FIRST_FAILURE) !== 0 ? number() : undefined
  const lastFailureAt = (flags & HAS_LAST_FAILURE) !== 0 ? number() : undefined
  const lastStatus = (flags & HAS_LAST_STATUS) !== 0 ? number() : undefined
  const notBefore = (flags & HAS_NOT_BEFORE) !== 0 ? number() : undefined
  const redrivenAt = (flags & HAS_REDRIVEN_AT) !== 0 ? number() : undefined
  const [webhookId, tenantId, accountId, eventType, body] = [text(), text(), text(), text(), text()] as [string, string, string, string, string]
  const lastError = (flags & HAS_LAST_ERROR) !== 0 ? text() : undefined
  const key = (flags & KEY_NULL) !== 0 ? null : bytes()
  const value = (flags & VALUE_NULL) !== 0 ? null : bytes()
  const headers: Record<string, HeaderValue> = {}
  const count = packed.readUInt16LE(at)
  at += 2
  for (let i = 0; i < count; i++) {
    const name = text()
    const isString = packed.readUInt8(at++) === 1
    headers[name] = isString ? text() : bytes()
  }
  const task: DeliveryTask = { webhookId, subscriptionId, tenantId, accountId, eventType, occurredAt, body, source, record: { key, value, headers, timestamp }, attempts }
  if (firstFailureAt !== undefined) task.firstFailureAt = firstFailureAt
  if (lastFailureAt !== undefined) task.lastFailureAt = lastFailureAt
  if (lastStatus !== undefined) task.lastStatus = lastStatus
  if (lastError !== undefined) task.lastError = lastError
  if (notBefore !== undefined) task.notBefore = notBefore
  if (redrivenAt !== undefined) task.redrivenAt = redrivenAt
  return task
}
