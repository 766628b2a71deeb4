import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { packIds, SortedIds } from '../../../../services/dispatcher/src/history/sorted-ids.js'

describe('packed sorted ids', () => {
  it('hold exactly the ids packed: prefixes, the empty id, non-ASCII and astral characters included', () => {
    const ids = ['evt-1', 'evt-10', 'evt-1a', 'EVT-1', '', 'a', 'ab', 'abc', 'évé', 'z', '\u{1F600}', '\uFFFF', 'id with space']
    const set = new SortedIds(packIds(new Set(ids)))
    expect(set.size).toBe(ids.length)
    for (const id of ids) expect(set.has(id)).toBe(true)
    for (const absent of ['evt-', 'evt-2', 'evt-100', 'b', 'abcd', 'aa', 'ev', '\u{1F601}', '\uFFFE', ' ']) expect(set.has(absent)).toBe(false)
  })

  it('answer like a Set for thousands of random ids, and nothing for an empty set', () => {
    const ids = Array.from({ length: 5000 }, () => randomUUID())
    const set = new SortedIds(packIds(ids.slice(0, 2500)))
    expect(ids.map((id) => set.has(id))).toEqual(ids.map((_, i) => i < 2500))
    const empty = new SortedIds(packIds([]))
    expect([empty.size, empty.has(''), empty.has('x')]).toEqual([0, false, false])
  })
})
