/**
 * Avro `decimal` ↔ decimal strings, exactly. The Avro value is the unscaled
 * integer as big-endian two's-complement bytes (the same bytes Java's
 * `BigInteger.toByteArray()` gives); the JavaScript value is a string with
 * exactly `scale` fraction digits ("1234.5000"). Only BigInt arithmetic: no
 * float ever touches an amount.
 *
 * https://avro.apache.org/docs/1.11.1/specification/#decimal
 */
import avro from 'avsc'
import type { Type } from 'avsc'

type AvroSchema = ConstructorParameters<typeof avro.types.LogicalType>[0]

export interface DecimalSpec {
  /** Maximum number of significant digits. */
  precision: number
  /** Number of digits after the decimal point. */
  scale: number
}

const DECIMAL_TEXT = /^(-)?(\d+)(?:\.(\d+))?$/

/**
 * What is wrong with `value` as a decimal of this spec, or undefined when it
 * is a valid decimal string (0 to `scale` fraction digits, within
 * `precision`).
 */
export function decimalProblem (value: unknown, spec: DecimalSpec): string | undefined {
  if (typeof value !== 'string') return `must be a decimal string such as "12.50", got ${describe(value)}`
  const match = DECIMAL_TEXT.exec(value)
  if (match === null) return `must be a decimal string such as "12.50", got ${JSON.stringify(value)}`
  const fraction = match[3] ?? ''
  if (fraction.length > spec.scale) {
    return `has ${fraction.length} fraction digits; at most ${spec.scale} allowed`
  }
  const unscaled = BigInt((match[2] ?? '') + fraction.padEnd(spec.scale, '0'))
  if (unscaled >= 10n ** BigInt(spec.precision)) {
    return `exceeds ${spec.precision} significant digits (at most ${spec.precision - spec.scale} before the point)`
  }
  return undefined
}

/** The unscaled integer of a decimal string; throws RangeError when invalid. */
export function parseDecimal (value: string, spec: DecimalSpec): bigint {
  const problem = decimalProblem(value, spec)
  if (problem !== undefined) throw new RangeError(`decimal ${problem}`)
  const match = DECIMAL_TEXT.exec(value) as RegExpExecArray
  const unscaled = BigInt((match[2] ?? '') + (match[3] ?? '').padEnd(spec.scale, '0'))
  return match[1] === '-' ? -unscaled : unscaled
}

/** A decimal string with exactly `scale` fraction digits. Never "-0". */
export function formatDecimal (unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const text = scale === 0 ? whole : `${whole}.${digits.slice(digits.length - scale)}`
  return negative ? `-${text}` : text
}

/** Rewrites a valid decimal string with exactly `scale` fraction digits. */
export function normalizeDecimal (value: string, spec: DecimalSpec): string {
  return formatDecimal(parseDecimal(value, spec), spec.scale)
}

/**
 * Minimal big-endian two's-complement bytes of `value`; `size` pads with the
 * sign (for Avro `fixed`). Zero is one 0x00 byte.
 */
export function toTwosComplement (value: bigint, size?: number): Buffer {
  let length = 1
  while (value >= 1n << BigInt(8 * length - 1) || value < -(1n << BigInt(8 * length - 1))) length++
  if (size !== undefined) {
    if (length > size) throw new RangeError(`decimal needs ${length} bytes, fixed size is ${size}`)
    length = size
  }
  let rest = value < 0n ? (1n << BigInt(8 * length)) + value : value
  const bytes = Buffer.alloc(length)
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn)
    rest >>= 8n
  }
  return bytes
}

/** The integer of big-endian two's-complement bytes; throws on empty input. */
export function fromTwosComplement (bytes: Uint8Array): bigint {
  const first = bytes[0]
  if (first === undefined) throw new RangeError('decimal has zero bytes')
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  return (first & 0x80) === 0 ? value : value - (1n << BigInt(8 * bytes.length))
}

interface DecimalSchema {
  type: 'bytes' | 'fixed'
  precision?: unknown
  scale?: unknown
  size?: number
}

/**
 * avsc logical type for `decimal` on `bytes` or `fixed`. Writing accepts
 * decimal strings with up to `scale` fraction digits; reading gives strings
 * with exactly `scale` fraction digits. Values beyond `precision` are
 * refused both ways (a longer value on the wire is corrupt data).
 */
export class DecimalType extends avro.types.LogicalType implements DecimalSpec {
  readonly precision: number
  readonly scale: number
  readonly size: number | undefined

  constructor (schema: AvroSchema, opts?: unknown) {
    super(schema, opts)
    const { precision, scale = 0, size } = schema as DecimalSchema
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) {
      throw new Error(`decimal precision must be a positive integer, got ${describe(precision)}`)
    }
    if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error(`decimal scale must be an integer from 0 to precision, got ${describe(scale)}`)
    }
    if (size !== undefined && 10n ** BigInt(precision) > 1n << BigInt(8 * size - 1)) {
      throw new Error(`decimal precision ${precision} does not fit in fixed(${size})`)
    }
    this.precision = precision
    this.scale = scale
    this.size = size
  }

  protected override _fromValue (bytes: Buffer): string {
    const unscaled = fromTwosComplement(bytes)
    const limit = 10n ** BigInt(this.precision)
    if (unscaled >= limit || unscaled <= -limit) {
      throw new RangeError(`decimal on the wire exceeds precision ${this.precision}`)
    }
    return formatDecimal(unscaled, this.scale)
  }

  protected override _toValue (value: unknown): Buffer {
    if (typeof value !== 'string') throw new TypeError(`decimal must be a string, got ${describe(value)}`)
    return toTwosComplement(parseDecimal(value, this), this.size)
  }

  protected override _resolve (writer: Type): ((value: string) => string) | undefined {
    // Avro spec: a decimal resolves only from a decimal of the same scale and
    // precision. avsc hands over the writer's decoded value, already a string.
    if (writer instanceof DecimalType && writer.precision === this.precision && writer.scale === this.scale) {
      return (value) => value
    }
    return undefined
  }

  protected override _export (attrs: AvroSchema): void {
    Object.assign(attrs, { precision: this.precision, scale: this.scale })
  }
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return `${typeof value} ${String(value)}`
}
