import { describe, expect, it } from 'vitest'
import { INSTANT_PATTERN, parseInstant } from '../../../../services/dispatcher/src/dead-letters/instant.js'

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

describe('INSTANT_PATTERN (the admin API schema\'s, in its OpenAPI document)', () => {
  const pattern = new RegExp(INSTANT_PATTERN)
  const parses = (raw: string): boolean => {
    try {
      parseInstant(raw)
      return true
    } catch {
      return false
    }
  }

  it('reads years 0–99 as written, not as 1900–1999', () => {
    expect(parseInstant('0050-03-01')).toBe(new Date('0050-03-01T00:00:00Z').getTime())
    expect(parseInstant('0000-02-29T12:00:00Z')).toBe(new Date('0000-02-29T12:00:00Z').getTime())
  })

  it('matches exactly the dates parseInstant reads, every day of every month, leap years and centuries included', () => {
    for (const year of ['0000', '0004', '0100', '1900', '2000', '2023', '2024', '2100', '2400']) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const raw = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
          expect(pattern.test(raw), raw).toBe(parses(raw))
        }
      }
    }
  })

  it.each([
    '1718000000000', '0', '999999999999999', '2024-06-10T08:30:00Z', '2024-06-10T10:30+02:00', '2024-06-10T10:30-0230',
    '2024-06-10T08:30:00.123456789Z', '2024-06-10T23:59:59+23:59'
  ])('matches %j, which parseInstant reads', (raw) => {
    expect(pattern.test(raw)).toBe(true)
    expect(parses(raw)).toBe(true)
  })

  it.each([
    '2024-06-10T08:30', '2024-06-10T24:00:00Z', '2024-06-10T08:60:00Z', '2024-06-10T08:30:60Z', '2024-06-10T08:30:00+24:00',
    '2024-06-10T08:30:00+02:60', '2024-06-10T08:30:00.1234567890Z', '2024-06-10t08:30:00z', ' 2024-06-10', '2024-06-10\n',
    '9999999999999999', '١٢٣', '2024-06-10T08:30:00Z ', ''
  ])('refuses %j (parseInstant refuses it too, or it is past 15 digits or padded)', (raw) => {
    expect(pattern.test(raw)).toBe(false)
  })
})
