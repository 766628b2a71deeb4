import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { TimestampMillisType } from '../../../services/events/src/timestamp.js'

const options = { logicalTypes: { 'timestamp-millis': TimestampMillisType }, assertLogicalTypes: true }
const timestamp = avro.Type.forSchema({ type: 'long', logicalType: 'timestamp-millis' } as Parameters<typeof avro.Type.forSchema>[0], options)

describe('TimestampMillisType', () => {
  it.each([
    new Date(0),
    new Date('2026-11-27T18:07:48.123Z'),
    new Date(-1),
    new Date('1969-07-20T20:17:40Z'),
    new Date(8_640_000_000_000_000)
  ])('round-trips %s as milliseconds since the epoch', (date) => {
    const buffer = timestamp.toBuffer(date)
    const back = timestamp.fromBuffer(buffer) as Date
    expect(back).toBeInstanceOf(Date)
    expect(back.getTime()).toBe(date.getTime())
    expect(avro.Type.forSchema('long').fromBuffer(buffer)).toBe(date.getTime())
  })

  it('refuses numbers, strings and invalid dates', () => {
    expect(timestamp.isValid(Date.now())).toBe(false)
    expect(timestamp.isValid('2026-01-01T00:00:00Z')).toBe(false)
    expect(timestamp.isValid(new Date(Number.NaN))).toBe(false)
    expect(() => timestamp.toBuffer(new Date(Number.NaN))).toThrow(/valid Date/)
  })

  it('reads data written as a plain long and as timestamp-millis', () => {
    const long = avro.Type.forSchema('long')
    expect((timestamp.fromBuffer(long.toBuffer(1234), timestamp.createResolver(long)) as Date).getTime()).toBe(1234)
    const same = avro.Type.forSchema({ type: 'long', logicalType: 'timestamp-millis' } as Parameters<typeof avro.Type.forSchema>[0], options)
    expect((timestamp.fromBuffer(same.toBuffer(new Date(99)), timestamp.createResolver(same)) as Date).getTime()).toBe(99)
  })
})
