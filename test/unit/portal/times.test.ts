// The replay form's times: a datetime-local value is the browser's local
// time to the second, and the API takes ISO instants.
import { describe, expect, it } from 'vitest'
import { fromLocalInput, toLocalInput } from '../../../services/portal/src/times.js'

describe('portal times', () => {
  it('round-trips an instant to the second through the local form', () => {
    const at = new Date('2026-12-05T04:10:07.000Z')
    expect(toLocalInput(at)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/)
    expect(fromLocalInput(toLocalInput(at))).toBe('2026-12-05T04:10:07.000Z')
  })

  it('reads a value without seconds (what a browser gives when they are zero)', () => {
    const at = new Date(2026, 11, 5, 9, 30, 0)
    expect(fromLocalInput('2026-12-05T09:30')).toBe(at.toISOString())
  })

  it('refuses an empty or malformed value, and one with a zone (the input never has one)', () => {
    for (const value of ['', '2026-12-05', '2026-12-05T09:30:00Z', 'yesterday', '2026-13-45T99:99']) expect(fromLocalInput(value), value).toBeUndefined()
  })
})
