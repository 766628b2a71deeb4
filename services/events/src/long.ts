/**
 * avsc type for Avro `long` that reads every 64-bit value exactly: a
 * `number` while it is a safe integer (|n| ≤ 2^53 − 1), a `bigint` beyond.
 * avsc's own long throws "potential precision loss" past ±(2^53 − 2), so a
 * legal Java `long` such as 2^53 + 1 in `accountSequence` made a well-formed
 * record undecodable. Small values stay numbers so that nothing downstream
 * changes for the values every producer sends today.
 *
 * https://avro.apache.org/docs/1.11.1/specification/#primitive-types
 */
import avro from 'avsc'

const MIN_LONG = -(2n ** 63n)
const MAX_LONG = 2n ** 63n - 1n

/** A long as decoded: a number when safe, a bigint otherwise. */
export type ExactLong = number | bigint

function exact (value: bigint): ExactLong {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}

function isLong (value: unknown): value is ExactLong {
  if (typeof value === 'number') return Number.isSafeInteger(value)
  return typeof value === 'bigint' && value >= MIN_LONG && value <= MAX_LONG
}

export const exactLongType = avro.types.LongType.__with({
  // avsc hands over (and takes back) the 8-byte little-endian two's
  // complement form; the zig-zag varint on the wire is its business.
  fromBuffer: (buf: Buffer): ExactLong => exact(buf.readBigInt64LE(0)),
  toBuffer: (value: ExactLong): Buffer => {
    const buf = Buffer.alloc(8)
    buf.writeBigInt64LE(BigInt(value))
    return buf
  },
  fromJSON: (value: unknown): ExactLong => {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return exact(BigInt(value))
    throw new TypeError(`not a long: ${String(value)}`)
  },
  toJSON: (value: ExactLong): number | string => typeof value === 'bigint' ? value.toString() : value,
  isValid: isLong,
  compare: (a: ExactLong, b: ExactLong): number => (a < b ? -1 : a > b ? 1 : 0)
})
