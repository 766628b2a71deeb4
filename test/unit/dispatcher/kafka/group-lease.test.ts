import { describe, expect, it } from 'vitest'
import { GroupLease } from '../../../../services/dispatcher/src/kafka/group-lease.js'

describe('GroupLease', () => {
  it('holds from a renewal for the session timeout less a sixth of it, and not before the first renewal', () => {
    let now = 1_000
    const lease = new GroupLease(6_000, () => now)
    expect(lease.valid()).toBe(false)
    lease.renew()
    now += 4_999
    expect(lease.valid()).toBe(true)
    now += 1
    expect(lease.valid()).toBe(false)
    lease.renew()
    expect(lease.valid()).toBe(true)
  })

  it('keeps at most 5 s of margin on long session timeouts', () => {
    let now = 0
    const lease = new GroupLease(45_000, () => now)
    lease.renew()
    now = 39_999
    expect(lease.valid()).toBe(true)
    now = 40_000
    expect(lease.valid()).toBe(false)
  })
})
