import { describe, expect, it } from 'vitest'
import { deadLetterFilter, etagOf, ifMatchRevision } from '../../../../services/dispatcher/src/http/admin/requests.js'
import { allowedMethods } from '../../../../services/dispatcher/src/http/admin/routes.js'

describe('ifMatchRevision', () => {
  it.each([
    [undefined, 3, undefined],
    ['*', 3, undefined],
    ['"3"', 3, 3],
    ['"2"', 3, 2],
    ['"2", "3"', 3, 3],
    ['W/"3"', 3, Number.NaN],
    ['3', 3, Number.NaN],
    ['"abc"', 3, Number.NaN]
  ])('reads %j (current %d) as %d', (header, current, expected) => {
    expect(ifMatchRevision(header, current)).toBe(expected)
  })

  it('writes the ETag a GET answers', () => {
    expect(etagOf(12)).toBe('"12"')
    expect(ifMatchRevision(etagOf(12), 12)).toBe(12)
  })
})

describe('deadLetterFilter', () => {
  it('takes one value or a list per filter, and instants in three forms', () => {
    expect(deadLetterFilter({ subscriptionId: 'a', accountId: ['x', 'y'], from: '2025-01-01', to: 1735776000000 }))
      .toEqual({ subscriptionIds: ['a'], accountIds: ['x', 'y'], from: Date.parse('2025-01-01T00:00:00Z'), to: 1735776000000 })
    expect(() => deadLetterFilter({ from: '2025-01-02', to: '2025-01-01' })).toThrow(expect.objectContaining({ code: 'WHD_ERR_VALIDATION', field: 'to' }))
    expect(() => deadLetterFilter({ from: 'soon' })).toThrow(expect.objectContaining({ field: 'from' }))
  })
})

describe('allowedMethods', () => {
  it('lists the methods of a known path, for 405', () => {
    expect(allowedMethods('/v1/endpoints')).toEqual(['GET', 'POST'])
    expect(allowedMethods('/v1/endpoints/ep-1')).toEqual(['GET', 'PATCH', 'DELETE'])
    expect(allowedMethods('/v1/dead-letters/redrive')).toEqual(['POST'])
  })

  it.each(['/v1/endpoints/', '/v1/endpoints/a%2Fb', '/v1/endpoints/%E0%A4%A', `/v1/endpoints/${'a'.repeat(129)}`, '/V1/endpoints', '/v1/nothing'])('knows no methods of %s (404)', (path) => {
    expect(allowedMethods(path)).toEqual([])
  })
})
