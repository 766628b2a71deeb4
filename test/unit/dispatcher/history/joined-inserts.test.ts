import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { JoinedInserts } from '../../../../services/dispatcher/src/history/joined-inserts.js'
import { openSqlHistoryStore } from '../../../../services/dispatcher/src/history/sql-store.js'
import { openSqliteDriver } from '../../../../services/dispatcher/src/history/sqlite-driver.js'
import type { HistoryStore, IndexedAttempt } from '../../../../services/dispatcher/src/history/store.js'
import { attempt } from '../../../support/history-store-contract.js'

const dir = mkdtempSync(join(tmpdir(), 'whd-joined-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
let n = 0

/** A real store whose insert calls (transactions) are listed by size. */
async function countedStore (): Promise<{ store: HistoryStore, transactions: number[] }> {
  const store = await openSqlHistoryStore(openSqliteDriver(join(dir, `j${++n}.sqlite`)))
  const transactions: number[] = []
  const insert = store.insert
  return { store: { ...store, insert: async (entries: readonly IndexedAttempt[]) => { transactions.push(entries.length); return await insert(entries) } }, transactions }
}

describe('joined inserts', () => {
  it('writes what one turn hands in with one transaction, each caller resolving once its rows are there', async () => {
    const { store, transactions } = await countedStore()
    const added: number[] = []
    const inserts = new JoinedInserts(store, (count) => added.push(count))
    const repeated = attempt()
    await Promise.all([
      inserts.insert([repeated, attempt()]).then(async () => expect(await store.count()).toBe(4)),
      inserts.insert([attempt(), repeated]),
      inserts.insert([]),
      inserts.insert([attempt()])
    ])
    await inserts.insert([attempt()])
    expect(transactions).toEqual([5, 1])
    expect(added).toEqual([4, 1])
    expect(await store.count()).toBe(5)
    await store.close()
  })

  it('writes a turn of more than 5,000 entries with a transaction per 5,000', async () => {
    const { store, transactions } = await countedStore()
    const inserts = new JoinedInserts(store, () => {})
    await Promise.all([inserts.insert(Array.from({ length: 4000 }, () => attempt())), inserts.insert(Array.from({ length: 2001 }, () => attempt()))])
    expect(transactions).toEqual([5000, 1001])
    expect(await store.count()).toBe(6001)
    await store.close()
  })

  it('rejects every caller of a transaction that fails, and starts afresh in the next turn', async () => {
    const { store } = await countedStore()
    let fail = true
    const inserts = new JoinedInserts({ insert: async (entries) => { if (fail) throw new Error('disk full'); return await store.insert(entries) } }, () => {})
    const results = await Promise.allSettled([inserts.insert([attempt()]), inserts.insert([attempt()])])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    await inserts.insert([attempt()])
    expect(await store.count()).toBe(1)
    await store.close()
  })
})
