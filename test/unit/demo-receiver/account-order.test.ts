import { describe, expect, it } from 'vitest'
import { AccountOrder, accountPosition, describeVerdict } from '../../../services/demo-receiver/src/account-order.js'

describe('AccountOrder', () => {
  it('judges each account on its own: first, next, gap, stale', () => {
    const order = new AccountOrder()
    expect(order.observe('acc-1', 1n)).toEqual({ kind: 'first' })
    expect(order.observe('acc-2', 5n)).toEqual({ kind: 'first' })
    expect(order.observe('acc-1', 2n)).toEqual({ kind: 'next' })
    expect(order.observe('acc-1', 5n)).toEqual({ kind: 'gap', missing: 2n })
    expect(order.observe('acc-1', 4n)).toEqual({ kind: 'stale', last: 5n })
    expect(order.observe('acc-1', 5n)).toEqual({ kind: 'stale', last: 5n })
    expect(order.observe('acc-2', 6n)).toEqual({ kind: 'next' })
  })

  it('compares sequences beyond 2^53 exactly', () => {
    const order = new AccountOrder()
    order.observe('acc-1', 9007199254740992n)
    expect(order.observe('acc-1', 9007199254740993n)).toEqual({ kind: 'next' })
  })

  it('forgets the least recently heard account beyond its capacity', () => {
    const order = new AccountOrder(2)
    order.observe('a', 1n)
    order.observe('b', 1n)
    order.observe('a', 2n)
    order.observe('c', 1n)
    expect(order.observe('b', 2n)).toEqual({ kind: 'first' })
    expect(order.observe('a', 3n)).toEqual({ kind: 'first' })
  })

  it('notes only what is amiss', () => {
    expect(describeVerdict({ kind: 'next' })).toBeUndefined()
    expect(describeVerdict({ kind: 'gap', missing: 2n })).toMatch(/^gap: 2 /)
    expect(describeVerdict({ kind: 'stale', last: 5n })).toMatch(/already at seq 5/)
  })
})

describe('accountPosition', () => {
  it('reads the account and the exact sequence from the body text', () => {
    expect(accountPosition('{"id":"x","type":"account.opened","timestamp":"t","data":{"accountId":"acc-9","accountSequence":9007199254740993}}'))
      .toEqual({ accountId: 'acc-9', sequence: 9007199254740993n })
  })

  it('is undefined for a body without a position (webhook.test) or not JSON', () => {
    expect(accountPosition('{"id":"t","type":"webhook.test","data":{"subscriptionId":"ep"}}')).toBeUndefined()
    expect(accountPosition('not json')).toBeUndefined()
  })
})
