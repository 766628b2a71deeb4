import { describe, expect, it } from 'vitest'
import { PageCollector, type PageRequest } from '../../../../services/dispatcher/src/dead-letters/page.js'
import type { DeadLetterState } from '../../../../services/dispatcher/src/dead-letters/lifecycle.js'

interface L { partition: number, offset: number, reason: string, state: DeadLetterState }

// Letters as a scan hands them over: partitions interleaved, each in offset order.
const letters: L[] = []
for (let offset = 0; offset < 5; offset++) {
  for (let partition = 0; partition < 3; partition++) letters.push({ partition, offset, reason: offset === 0 ? 'endpoint-gone' : 'retries-exhausted', state: offset === 4 ? 'delivered' : 'dead' })
}

function page (request: PageRequest): ReturnType<PageCollector<string>['page']> {
  const collector = new PageCollector<string>(request)
  for (const l of letters) collector.offer({ partition: l.partition, offset: BigInt(l.offset) }, l.reason, l.state, () => `${l.partition}@${l.offset}`)
  return collector.page()
}

describe('PageCollector', () => {
  it('lists by partition then offset, and says where the next page starts', () => {
    const first = page({ limit: 4 })
    expect(first.items).toEqual(['0@0', '0@1', '0@2', '0@3'])
    expect(first.next).toEqual({ partition: 0, offset: 3n })
    const second = page({ limit: 4, after: first.next })
    expect(second.items).toEqual(['0@4', '1@0', '1@1', '1@2'])
  })

  it('walks every letter exactly once, and the last page has no next', () => {
    const seen: string[] = []
    let after: PageRequest['after']
    for (;;) {
      const p = page({ limit: 4, ...(after === undefined ? {} : { after }) })
      seen.push(...p.items)
      if (p.next === undefined) break
      after = p.next
    }
    expect(seen).toHaveLength(15)
    expect(new Set(seen).size).toBe(15)
    expect(page({ limit: 15 }).next).toBeUndefined()
  })

  it('counts every match, not only the page, by reason and state; a state filter narrows both', () => {
    expect(page({ limit: 1 })).toMatchObject({ total: 15, countByReason: { 'endpoint-gone': 3, 'retries-exhausted': 12 }, countByState: { dead: 12, delivered: 3 } })
    expect(page({ limit: 10, states: ['delivered'] })).toMatchObject({ items: ['0@4', '1@4', '2@4'], total: 3, countByState: { delivered: 3 } })
  })
})
