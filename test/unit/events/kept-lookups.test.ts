import { describe, expect, it } from 'vitest'
import { keptLookups } from '../../../services/events/src/index.js'

describe('kept lookups', () => {
  it('keeps what was found, shares a lookup under way, and asks again after a failure or nothing found', async () => {
    const asked: string[] = []
    const answers = new Map<string, string | undefined>([['a', 'A'], ['none', undefined]])
    const lookups = keptLookups(async (key: string) => {
      asked.push(key)
      if (!answers.has(key)) throw new Error(`no ${key}`)
      return answers.get(key)
    })
    expect(lookups.known('a')).toBeUndefined()
    expect(await Promise.all([lookups.get('a'), lookups.get('a')])).toEqual(['A', 'A'])
    expect(lookups.known('a')).toBe('A')
    expect(await lookups.get('a')).toBe('A')
    await expect(lookups.get('x')).rejects.toThrow('no x')
    await expect(lookups.get('x')).rejects.toThrow('no x')
    expect(await lookups.get('none')).toBeUndefined()
    expect(await lookups.get('none')).toBeUndefined()
    expect(asked).toEqual(['a', 'x', 'x', 'none', 'none'])
  })
})
