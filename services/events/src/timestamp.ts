/**
 * avsc logical type for `timestamp-millis` on `long`: a JavaScript `Date`
 * in memory, milliseconds since the Unix epoch (UTC) on the wire.
 *
 * https://avro.apache.org/docs/1.11.1/specification/#timestamp-millisecond-precision
 */
import avro from 'avsc'
import type { Type } from 'avsc'

export class TimestampMillisType extends avro.types.LogicalType {
  protected override _fromValue (millis: number): Date {
    return new Date(millis)
  }

  protected override _toValue (value: unknown): number {
    if (!(value instanceof Date)) throw new TypeError('timestamp-millis must be a Date')
    const millis = value.getTime()
    if (Number.isNaN(millis)) throw new RangeError('timestamp-millis must be a valid Date')
    return millis
  }

  protected override _resolve (writer: Type): ((value: Date | number) => Date) | undefined {
    // avsc hands over the writer's decoded value: a Date from this type, a
    // number from a plain long.
    if (writer instanceof TimestampMillisType) return (value) => value as Date
    if (avro.Type.isType(writer, 'long')) return (value) => this._fromValue(value as number)
    return undefined
  }
}
