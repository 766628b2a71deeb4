import { describe, expect, it } from 'vitest'
import { parseInstant } from '../../../../services/dispatcher/src/dead-letters/instant.js'

describe('parseInstant', () => {
  it.each([
    ['0', 0],
    ['1718008200000', 1718008200000],
    [' 1718008200000 ', 1718008200000],
    ['2024-06-10', Date.UTC(2024, 5, 10)],
    ['2024-06-10T08:30Z', Date.UTC(2024, 5, 10, 8, 30)],
    ['2024-06-10T08:30:15Z', Date.UTC(2024, 5, 10, 8, 30, 15)],
    ['2024-06-10T08:30:15.5Z', Date.UTC(2024, 5, 10, 8, 30, 15, 500)],
    ['2024-06-10T08:30:15.123456789Z', Date.UTC(2024, 5, 10, 8, 30, 15, 123)],
    ['2024-06-10T10:30:00+02:00', Date.UTC(2024, 5, 10, 8, 30)],
    ['2024-06-10T10:30:00+0200', Date.UTC(2024, 5, 10, 8, 30)],
    ['2024-06-10T10:30:00+02', Date.UTC(2024, 5, 10, 8, 30)],
    ['2024-06-10T03:00:00-05:30', Date.UTC(2024, 5, 10, 8, 30)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['1969-12-31T23:59:59Z', -1000]
  ])('reads %s', (raw, expected) => {
    expect(parseInstant(raw)).toBe(expected)
  })

  it.each([
    ['', /neither ISO-8601/],
    ['yesterday', /neither ISO-8601/],
    ['-5', /neither ISO-8601/],
    ['1.5', /neither ISO-8601/],
    ['2024-06-10T08:30:00', /no time zone/],
    ['2024-06-10T08:30', /no time zone/],
    ['2024-06-10 08:30:00Z', /neither ISO-8601/],
    ['10/06/2024', /neither ISO-8601/],
    ['June 10, 2024', /neither ISO-8601/],
    ['2024-13-01', /not a valid date-time/],
    ['2024-00-10', /not a valid date-time/],
    ['2024-06-10T24:00:00Z', /not a valid date-time/],
    ['2024-06-10T08:60:00Z', /not a valid date-time/],
    ['2024-06-10T08:30:60Z', /not a valid date-time/],
    ['2024-04-31', /not a calendar date/],
    ['2023-02-29T00:00:00Z', /not a calendar date/],
    ['2024-06-10T08:30:00+24:00', /invalid zone offset/],
    ['2024-06-10T08:30:00+02:60', /invalid zone offset/],
    ['99999999999999999', /neither ISO-8601/],
    ['9999999999999999', /out of range/]
  ])('refuses %j', (raw, problem) => {
    expect(() => parseInstant(raw)).toThrow(RangeError)
    expect(() => parseInstant(raw)).toThrow(problem)
  })
})
