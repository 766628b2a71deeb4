import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { eventRecordsQuery, openSqlHistoryStore } from '../../../../services/dispatcher/src/history/sql-store.js'
import { openSqliteDriver } from '../../../../services/dispatcher/src/history/sqlite-driver.js'
import { bucketUpperMs, decodeCursor, encodeCursor, latencyBucket, quantileOf } from '../../../../services/dispatcher/src/history/store.js'
import { attempt, historyMigrationContract, historyStoreContract } from '../../../support/history-store-contract.js'

const dir = mkdtempSync(join(tmpdir(), 'whd-history-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
let n = 0

historyStoreContract('SQLite', async () => await openSqlHistoryStore(openSqliteDriver(join(dir, `h${++n}.sqlite`))))

describe('SQLite history store schema', () => {
  historyMigrationContract('SQLite', async () => openSqliteDriver(join(dir, `h${++n}.sqlite`)))
})

describe('SQLite event lookups', () => {
  // Inserts land among the current minute's pages of the event index
  // (schema v3); a lookup must still be index searches, never a scan of
  // the table: at a million rows a scan takes seconds.
  it('search the time-led event index minute by minute, and never scan the table', async () => {
    const driver = openSqliteDriver(join(dir, `h${++n}.sqlite`))
    const store = await openSqlHistoryStore(driver)
    try {
      const indexes = await driver.query<{ name: string }>('SELECT name FROM sqlite_master WHERE type = ? AND tbl_name = ?', ['index', 'attempts'])
      expect(indexes.map((i) => i.name)).not.toContain('attempts_by_event')
      for (const scoped of [false, true]) {
        const plan = (await driver.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${eventRecordsQuery('sqlite', scoped)}`, scoped ? ['e', 't'] : ['e'])).map((r) => r.detail)
        expect(plan).toContain('SEARCH a USING INDEX attempts_by_event_time (<expr>=? AND event_id=?)')
        expect(plan.filter((step) => /^SCAN (a|attempts)\b/.test(step))).toEqual([])
      }
    } finally {
      await store.close()
    }
  })
})

describe('SQLite history store file', () => {
  it('keeps rows and its id when reopened; a new file is a new store with a new id', async () => {
    const path = join(dir, 'reopen', 'history.sqlite')
    const first = await openSqlHistoryStore(openSqliteDriver(path))
    const id = await first.storeId()
    await first.insert([attempt()])
    await first.close()
    const again = await openSqlHistoryStore(openSqliteDriver(path))
    expect([await again.storeId(), await again.count()]).toEqual([id, 1])
    await again.close()
    rmSync(path)
    const fresh = await openSqlHistoryStore(openSqliteDriver(path))
    expect(await fresh.storeId()).not.toBe(id)
    expect(await fresh.count()).toBe(0)
    await fresh.close()
  })
})

describe('latency buckets and cursors', () => {
  it('a bucket\'s upper bound is within 5 % above every duration in it', () => {
    for (const ms of [1, 2, 3, 10, 99, 100, 101, 1234, 15_000, 60_000]) {
      const upper = bucketUpperMs(latencyBucket(ms))
      expect(upper).toBeGreaterThanOrEqual(ms - 0.5)
      expect(upper).toBeLessThanOrEqual(Math.ceil(ms * 1.05) + 1)
    }
    expect(quantileOf(new Map(), 0.5)).toBeUndefined()
  })

  it('a cursor reads back as itself; anything else is no cursor', () => {
    const cursor = { startedAt: 1_700_000_000_000, attemptId: 'a1b2' }
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor)
    for (const bad of ['', 'abc', Buffer.from('[1]').toString('base64url'), Buffer.from('["x","y"]').toString('base64url'), Buffer.from('{}').toString('base64url')]) {
      expect(decodeCursor(bad)).toBeUndefined()
    }
  })
})
