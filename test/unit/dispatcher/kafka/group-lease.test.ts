import { describe, expect, it } from 'vitest'
import { GroupLease } from '../../../../services/dispatcher/src/kafka/group-lease.js'

describe('GroupLease', () => {
  it('holds for one session timeout from a renewal, and not before the first renewal', () => {
    let now = 1_000
    const lease = new GroupLease(6_000, () => now)
    expect(lease.valid()).toBe(false)
    lease.renew()
    now += 5_999
    expect(lease.valid()).toBe(true)
    now += 1
    expect(lease.valid()).toBe(false)
    lease.renew()
    expect(lease.valid()).toBe(true)
  })
})
