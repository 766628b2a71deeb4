import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import {
  DecimalType, decimalProblem, formatDecimal, fromTwosComplement, normalizeDecimal, parseDecimal, toTwosComplement
} from '../../../services/events/src/decimal.js'

const MONEY = { precision: 19, scale: 4 }
const money = avro.Type.forSchema(
  { type: 'bytes', logicalType: 'decimal', precision: 19, scale: 4 } as Parameters<typeof avro.Type.forSchema>[0],
  { logicalTypes: { decimal: DecimalType }, assertLogicalTypes: true }
)
const optionalMoney = avro.Type.forSchema(
  ['null', { type: 'bytes', logicalType: 'decimal', precision: 19, scale: 4 }] as Parameters<typeof avro.Type.forSchema>[0],
  { logicalTypes: { decimal: DecimalType }, assertLogicalTypes: true }
)

describe('two\'s complement', () => {
  // Expected bytes are what Java's BigInteger.toByteArray() returns.
  it.each([
    [0n, '00'],
    [1n, '01'],
    [-1n, 'ff'],
    [127n, '7f'],
    [128n, '0080'],
    [-128n, '80'],
    [-129n, 'ff7f'],
    [255n, '00ff'],
    [256n, '0100'],
    [32767n, '7fff'],
    [-32768n, '8000'],
    [-32769n, 'ff7fff'],
    [9_999_999_999_999_999_999n, '008ac7230489e7ffff'],
    [-9_999_999_999_999_999_999n, 'ff7538dcfb76180001']
  ])('%s ↔ %s', (value, hex) => {
    expect(toTwosComplement(value).toString('hex')).toBe(hex)
    expect(fromTwosComplement(Buffer.from(hex, 'hex'))).toBe(value)
  })

  it('sign-extends to a fixed size', () => {
    expect(toTwosComplement(-2n, 4).toString('hex')).toBe('fffffffe')
    expect(toTwosComplement(2n, 4).toString('hex')).toBe('00000002')
    expect(() => toTwosComplement(1n << 40n, 4)).toThrow(RangeError)
  })

  it('round-trips every value around byte boundaries', () => {
    for (let bits = 0n; bits <= 72n; bits++) {
      for (const value of [(1n << bits) - 1n, 1n << bits, -(1n << bits), -(1n << bits) - 1n]) {
        expect(fromTwosComplement(toTwosComplement(value))).toBe(value)
      }
    }
  })

  it('refuses zero bytes', () => {
    expect(() => fromTwosComplement(Buffer.alloc(0))).toThrow(RangeError)
  })
})

describe('decimal strings', () => {
  it.each([
    ['0', 0n, '0.0000'],
    ['0.0', 0n, '0.0000'],
    ['-0', 0n, '0.0000'],
    ['-0.0000', 0n, '0.0000'],
    ['1', 10_000n, '1.0000'],
    ['1234.5', 12_345_000n, '1234.5000'],
    ['1234.56', 12_345_600n, '1234.5600'],
    ['0.001', 10n, '0.0010'],
    ['0.0001', 1n, '0.0001'],
    ['-0.0001', -1n, '-0.0001'],
    ['-12.34', -123_400n, '-12.3400'],
    ['007.50', 75_000n, '7.5000'],
    ['999999999999999.9999', 9_999_999_999_999_999_999n, '999999999999999.9999'],
    ['-999999999999999.9999', -9_999_999_999_999_999_999n, '-999999999999999.9999'],
    ['123456789012345', 1_234_567_890_123_450_000n, '123456789012345.0000']
  ])('%s → %s → %s', (text, unscaled, canonical) => {
    expect(decimalProblem(text, MONEY)).toBeUndefined()
    expect(parseDecimal(text, MONEY)).toBe(unscaled)
    expect(formatDecimal(unscaled, 4)).toBe(canonical)
    expect(normalizeDecimal(text, MONEY)).toBe(canonical)
  })

  it.each([
    ['1.23456', /5 fraction digits; at most 4/],
    ['0.00001', /5 fraction digits/],
    ['1000000000000000', /exceeds 19 significant digits/],
    ['-1000000000000000.0000', /exceeds 19/],
    ['', /decimal string/],
    ['1.', /decimal string/],
    ['.5', /decimal string/],
    ['+1', /decimal string/],
    ['1e3', /decimal string/],
    ['1,50', /decimal string/],
    [' 1', /decimal string/],
    ['NaN', /decimal string/],
    ['--1', /decimal string/]
  ])('refuses %j', (text, problem) => {
    expect(decimalProblem(text, MONEY)).toMatch(problem)
    expect(() => parseDecimal(text, MONEY)).toThrow(RangeError)
  })

  it.each([[12.5], [null], [undefined], [12n], [{}]])('refuses non-strings (%s)', (value) => {
    expect(decimalProblem(value, MONEY)).toMatch(/must be a decimal string/)
  })

  it('formats with scale 0 and small magnitudes', () => {
    expect(formatDecimal(5n, 0)).toBe('5')
    expect(formatDecimal(-5n, 2)).toBe('-0.05')
    expect(formatDecimal(5n, 3)).toBe('0.005')
  })
})

describe('DecimalType (avsc logical type)', () => {
  it.each([
    '0', '0.0001', '-0.0001', '1', '-1', '12.5', '-12.5', '1234.5678', '-1234.5678',
    '999999999999999.9999', '-999999999999999.9999', '0.9999', '65536', '-128.0128'
  ])('round-trips %s through avsc buffers', (text) => {
    const buffer = money.toBuffer(text)
    expect(money.fromBuffer(buffer)).toBe(normalizeDecimal(text, MONEY))
    expect(optionalMoney.fromBuffer(optionalMoney.toBuffer(text))).toBe(normalizeDecimal(text, MONEY))
  })

  it('writes the two\'s complement of the unscaled value as Avro bytes', () => {
    // Avro bytes = zig-zag varint length, then the bytes: 12.5 → 125000 = 0x01e848.
    expect(money.toBuffer('12.5').toString('hex')).toBe('0601e848')
    expect(money.toBuffer('-0.0001').toString('hex')).toBe('02ff')
    expect(money.toBuffer('0').toString('hex')).toBe('0200')
  })

  it('keeps null in an optional union', () => {
    expect(optionalMoney.fromBuffer(optionalMoney.toBuffer(null))).toBeNull()
  })

  it('refuses invalid values on write', () => {
    expect(() => money.toBuffer('1.00001')).toThrow(/fraction digits/)
    expect(() => money.toBuffer('1000000000000000')).toThrow(/exceeds/)
    expect(() => money.toBuffer(12.5)).toThrow(/must be a string/)
    expect(money.isValid('1.00001')).toBe(false)
    expect(money.isValid('1.5')).toBe(true)
  })

  it('refuses a wire value beyond its precision and empty bytes', () => {
    const tooLong = Buffer.concat([Buffer.from([0x12]), toTwosComplement(10n ** 19n)])
    expect(() => money.fromBuffer(tooLong)).toThrow(/exceeds precision/)
    expect(() => money.fromBuffer(Buffer.from([0x00]))).toThrow(/zero bytes/)
  })

  it('supports fixed with sign extension', () => {
    const fixed = avro.Type.forSchema(
      { type: 'fixed', name: 'Money', size: 9, logicalType: 'decimal', precision: 19, scale: 4 } as Parameters<typeof avro.Type.forSchema>[0],
      { logicalTypes: { decimal: DecimalType }, assertLogicalTypes: true }
    )
    expect(fixed.toBuffer('-0.0001').toString('hex')).toBe('ffffffffffffffffff')
    expect(fixed.fromBuffer(fixed.toBuffer('-12.34'))).toBe('-12.3400')
  })

  it('rejects schemas with an invalid precision or scale', () => {
    const forSchema = (schema: object): unknown => avro.Type.forSchema(
      schema as Parameters<typeof avro.Type.forSchema>[0],
      { logicalTypes: { decimal: DecimalType }, assertLogicalTypes: true }
    )
    expect(() => forSchema({ type: 'bytes', logicalType: 'decimal', precision: 0, scale: 0 })).toThrow(/precision/)
    expect(() => forSchema({ type: 'bytes', logicalType: 'decimal', precision: 4, scale: 5 })).toThrow(/scale/)
    expect(() => forSchema({ type: 'fixed', name: 'Tiny', size: 2, logicalType: 'decimal', precision: 19, scale: 4 })).toThrow(/does not fit/)
  })

  it('exports precision and scale in the schema', () => {
    expect(money.schema({ exportAttrs: true })).toEqual({ type: 'bytes', logicalType: 'decimal', precision: 19, scale: 4 })
  })

  it('resolves from the same decimal and not from another scale', () => {
    const other = avro.Type.forSchema(
      { type: 'bytes', logicalType: 'decimal', precision: 19, scale: 2 } as Parameters<typeof avro.Type.forSchema>[0],
      { logicalTypes: { decimal: DecimalType }, assertLogicalTypes: true }
    )
    const same = avro.Type.forSchema(
      { type: 'bytes', logicalType: 'decimal', precision: 19, scale: 4 } as Parameters<typeof avro.Type.forSchema>[0],
      { logicalTypes: { decimal: DecimalType }, assertLogicalTypes: true }
    )
    expect(money.fromBuffer(same.toBuffer('1.5'), money.createResolver(same))).toBe('1.5000')
    expect(() => money.createResolver(other)).toThrow()
  })
})
