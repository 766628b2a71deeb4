// One behaviour for both history stores: the SQLite unit test and the
// PostgreSQL integration test run these same cases on a fresh store.
import { randomUUID } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { migrations } from '../../services/dispatcher/src/history/migrations.js'
import type { SqlDriver } from '../../services/dispatcher/src/history/sql-driver.js'
import { openSqlHistoryStore } from '../../services/dispatcher/src/history/sql-store.js'
import type { EventIdSet, HistoryStore, IndexedAttempt } from '../../services/dispatcher/src/history/store.js'
import { latencyBucket, quantileOf } from '../../services/dispatcher/src/history/store.js'

const T0 = Date.parse('2026-12-01T00:00:00Z')
let logOffset = 0n

export function attempt (extra: Partial<IndexedAttempt> = {}): IndexedAttempt {
  return {
    attemptId: randomUUID(),
    eventId: 'evt-1',
    eventType: 'transaction.posted',
    tenantId: 'tenant-a',
    subscriptionId: 'sub-a',
    accountId: 'acc-1',
    occurredAt: T0 - 1000,
    sourceTopic: 'banking.account-events.v1',
    sourcePartition: 3,
    sourceOffset: 9_007_199_254_740_000n,
    attemptNumber: 1,
    lane: 'source',
    kind: 'attempt',
    outcome: 'delivered',
    startedAt: T0,
    durationMs: 20,
    httpStatus: 200,
    logPartition: 0,
    logOffset: logOffset++,
    ...extra
  }
}

export function historyStoreContract (name: string, open: () => Promise<HistoryStore>): void {
  describe(`${name} history store`, () => {
    let store: HistoryStore
    beforeEach(async () => {
      store = await open()
      return async () => { await store.close() }
    })

    it('keeps a store id across reopenings of the same database, and writes each attempt once', async () => {
      const id = await store.storeId()
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      const a = attempt()
      expect(await store.insert([a, attempt({ attemptNumber: 2 })])).toBe(2)
      expect(await store.insert([a])).toBe(0)
      expect(await store.count()).toBe(2)
    })

    it('names the events delivered to a subscription since a time, for a replay of the failed ones', async () => {
      await store.insert([
        attempt({ eventId: 'evt-ok' }),
        attempt({ eventId: 'evt-ok', attemptNumber: 2, lane: 'manual' }),
        attempt({ eventId: 'evt-late', outcome: 'failed', httpStatus: 500 }),
        attempt({ eventId: 'evt-late', attemptNumber: 2, lane: 'retry', startedAt: T0 + 9000 }),
        attempt({ eventId: 'evt-failed', outcome: 'failed', httpStatus: 500 }),
        attempt({ eventId: 'evt-parked', kind: 'outcome', outcome: 'parked', httpStatus: undefined }),
        attempt({ eventId: 'evt-old', startedAt: T0 - 60_000 }),
        attempt({ eventId: 'evt-other-sub', subscriptionId: 'sub-b' }),
        attempt({ eventId: 'evt-other-tenant', tenantId: 'tenant-b' })
      ])
      const every = ['evt-ok', 'evt-late', 'evt-failed', 'evt-parked', 'evt-old', 'evt-other-sub', 'evt-other-tenant']
      const members = (set: EventIdSet): string[] => [...every.filter((id) => set.has(id))].sort()
      const since = await store.deliveredEventIds('tenant-a', 'sub-a', T0)
      expect([members(since), since.size]).toEqual([['evt-late', 'evt-ok'], 2])
      expect(members(await store.deliveredEventIds('tenant-a', 'sub-a', T0 - 60_000))).toEqual(['evt-late', 'evt-ok', 'evt-old'])
      expect((await store.deliveredEventIds('tenant-b', 'sub-a', T0 + 10_000)).size).toBe(0)
    })

    it('answers an event\'s records oldest first, exactly as written, and only to its own tenant', async () => {
      const failed = attempt({ outcome: 'failed', httpStatus: 503, durationMs: 7, nextAttemptAt: T0 + 5000, responseBodyPrefix: 'busy ✓', startedAt: T0 })
      const parked = attempt({ kind: 'outcome', outcome: 'parked', startedAt: T0 + 1, errorCode: 'HTTP 503' })
      const delivered = attempt({ attemptNumber: 2, lane: 'retry', startedAt: T0 + 5000 })
      const other = attempt({ tenantId: 'tenant-b', subscriptionId: 'sub-b' })
      await store.insert([delivered, other, parked, failed])
      const records = await store.eventRecords('tenant-a', 'evt-1')
      expect(records).toEqual([failed, parked, delivered].map((r) => {
        const { durationMs, httpStatus, ...rest } = r
        return { ...rest, ...(durationMs === undefined ? {} : { durationMs }), ...(httpStatus === undefined ? {} : { httpStatus }) }
      }))
      expect(records[0]?.sourceOffset).toBe(9_007_199_254_740_000n)
      expect(await store.eventRecords('tenant-c', 'evt-1')).toEqual([])
      expect((await store.eventRecords(undefined, 'evt-1')).length).toBe(4)
    })

    it('finds every attempt of an event however far apart they started, among other events\' rows and across gaps', async () => {
      const minute = 60_000
      // Minute edges on both sides, a retry days later, and a row far from the rest (a writer with a wrong clock).
      const starts = [T0 - 1, T0, T0 + minute - 1, T0 + minute, T0 + 3 * 86_400_000 + 17, T0 + 400 * 86_400_000]
      const mine = starts.map((startedAt, i) => attempt({ eventId: 'evt-far', attemptNumber: i + 1, startedAt }))
      const others = starts.flatMap((startedAt) => [
        attempt({ eventId: 'evt-near', startedAt }),
        attempt({ eventId: 'evt-far', tenantId: 'tenant-b', startedAt: startedAt + 1 })
      ])
      await store.insert([...others, ...[...mine].reverse()])
      expect((await store.eventRecords('tenant-a', 'evt-far')).map((r) => [r.attemptNumber, r.startedAt])).toEqual(mine.map((r) => [r.attemptNumber, r.startedAt]))
      expect((await store.eventRecords(undefined, 'evt-far')).length).toBe(mine.length * 2)
      expect(await store.eventRecords('tenant-a', 'evt-none')).toEqual([])
    })

    it('pages an endpoint\'s attempts newest first with a cursor, under every filter', async () => {
      const rows = Array.from({ length: 25 }, (_, i) => attempt({
        eventId: `evt-${i}`,
        startedAt: T0 + Math.floor(i / 2) * 1000,
        outcome: i % 5 === 0 ? 'failed' : 'delivered',
        httpStatus: i % 5 === 0 ? (i % 10 === 0 ? 500 : undefined) : 200,
        errorCode: i % 5 === 0 && i % 10 !== 0 ? 'timeout' : undefined,
        eventType: i % 2 === 0 ? 'transaction.posted' : 'account.frozen',
        accountId: `acc-${i % 3}`
      }))
      await store.insert([...rows, attempt({ subscriptionId: 'sub-other' })])
      const seen: IndexedAttempt[] = []
      let after
      for (;;) {
        const page = await store.attempts('tenant-a', 'sub-a', { limit: 10, ...(after === undefined ? {} : { after }) })
        seen.push(...page.items)
        if (page.next === undefined) break
        after = page.next
      }
      expect(seen.map((r) => r.eventId).sort()).toEqual(rows.map((r) => r.eventId).sort())
      for (let i = 1; i < seen.length; i++) expect((seen[i - 1] as IndexedAttempt).startedAt).toBeGreaterThanOrEqual((seen[i] as IndexedAttempt).startedAt)
      const only = async (q: Parameters<HistoryStore['attempts']>[2]): Promise<string[]> => (await store.attempts('tenant-a', 'sub-a', q)).items.map((r) => r.eventId).sort()
      const ids = (pick: (r: IndexedAttempt, i: number) => boolean): string[] => rows.filter(pick).map((r) => r.eventId).sort()
      expect(await only({ limit: 200, outcomes: ['failed'] })).toEqual(ids((r) => r.outcome === 'failed'))
      expect(await only({ limit: 200, statusClass: '5xx' })).toEqual(ids((r) => r.httpStatus === 500))
      expect(await only({ limit: 200, statusClass: 'none' })).toEqual(ids((r) => r.httpStatus === undefined))
      expect(await only({ limit: 200, eventType: 'account.frozen' })).toEqual(ids((r) => r.eventType === 'account.frozen'))
      expect(await only({ limit: 200, accountId: 'acc-1' })).toEqual(ids((r) => r.accountId === 'acc-1'))
      expect(await only({ limit: 200, from: T0 + 3000, to: T0 + 6000 })).toEqual(ids((r) => r.startedAt >= T0 + 3000 && r.startedAt < T0 + 6000))
      expect(await store.attempts('tenant-b', 'sub-a', { limit: 200 })).toEqual({ items: [] })
    })

    it('totals a window\'s attempts with latency buckets, and prunes rows past retention', async () => {
      await store.insert([
        ...Array.from({ length: 98 }, () => attempt({ durationMs: 10 })),
        attempt({ durationMs: 1000, outcome: 'failed', httpStatus: 500 }),
        attempt({ durationMs: 1000, outcome: 'failed', httpStatus: 500 }),
        attempt({ kind: 'outcome', outcome: 'parked', durationMs: undefined, httpStatus: undefined }),
        attempt({ startedAt: T0 - 7_200_000 })
      ])
      const totals = await store.totals('tenant-a', 'sub-a', T0 - 3_600_000)
      expect([totals.attempts, totals.delivered]).toEqual([100, 98])
      expect(quantileOf(totals.buckets, 0.5)).toBeGreaterThanOrEqual(10)
      expect(quantileOf(totals.buckets, 0.5)).toBeLessThanOrEqual(11)
      expect(quantileOf(totals.buckets, 0.99)).toBeGreaterThanOrEqual(1000)
      expect(quantileOf(totals.buckets, 0.99)).toBeLessThanOrEqual(1050)
      expect(await store.prune(T0 - 3_600_000)).toBe(1)
      expect(await store.count()).toBe(101)
    })
  })
}

/** A row as version 1 of the schema holds it, column by column. */
function v1Row (e: IndexedAttempt): unknown[] {
  return [
    e.attemptId, e.eventId, e.eventType, e.tenantId, e.subscriptionId, e.accountId, e.occurredAt, e.sourceTopic, e.sourcePartition,
    e.sourceOffset, e.attemptNumber, e.lane, e.kind, e.outcome, e.startedAt, e.durationMs ?? null,
    e.durationMs === undefined ? null : latencyBucket(e.durationMs), e.httpStatus ?? null, e.errorCode ?? null,
    e.nextAttemptAt ?? null, e.responseBodyPrefix ?? null, e.logPartition, e.logOffset
  ]
}

/** A store made by the first release (schema version 1) opens with its rows, id and behaviour intact. */
export function historyMigrationContract (name: string, freshDatabase: () => Promise<SqlDriver>): void {
  it(`${name}: a version-1 store is migrated with its rows and id, and still writes each attempt once`, async () => {
    const db = await freshDatabase()
    const [v1] = migrations
    const old = [attempt({ eventId: 'evt-m', responseBodyPrefix: 'ok' }), attempt({ eventId: 'evt-m', attemptNumber: 2, startedAt: T0 + 1, durationMs: undefined })]
    await db.transaction(async (tx) => {
      await tx.execute('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
      for (const statement of v1?.[db.dialect] ?? []) await tx.execute(statement)
      await tx.execute('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)', ['schema_version', '1', 'store_id', 'store-of-v1'])
      for (const row of old) await tx.execute(`INSERT INTO attempts VALUES (${v1Row(row).map(() => '?').join(', ')})`, v1Row(row))
    })
    const store = await openSqlHistoryStore(db)
    try {
      expect(await store.storeId()).toBe('store-of-v1')
      expect(await store.eventRecords(undefined, 'evt-m')).toEqual(old)
      expect(await store.insert([old[0] as IndexedAttempt, attempt({ eventId: 'evt-m' })])).toBe(1)
      expect(await store.prune(T0 + 1)).toBe(2)
      expect(await store.count()).toBe(1)
      const version = await db.query<{ value: string }>('SELECT value FROM meta WHERE key = ?', ['schema_version'])
      expect(version[0]?.value).toBe(String(migrations.at(-1)?.version))
    } finally {
      await store.close()
    }
  })
}
