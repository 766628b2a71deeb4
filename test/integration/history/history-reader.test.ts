// The admin API's queries of a SQLite index run on the reader thread
// (wiring/history-reader.ts), the built history-reader-worker.js under dist/ as in
// production: the delivery thread's event loop keeps turning while one runs,
// and a reader that dies fails only its queries.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqlHistoryStore } from '../../../services/dispatcher/src/history/sql-store.js'
import { openSqliteDriver } from '../../../services/dispatcher/src/history/sqlite-driver.js'
import type { HistoryStore } from '../../../services/dispatcher/src/history/store.js'
import { ThreadHistoryStore } from '../../../services/dispatcher/src/wiring/history-reader.js'
import { attempt } from '../../support/history-store-contract.js'
import { repoRoot } from '../../support/log-segments.js'
import { waitUntil } from '../../support/wait.js'

const workerUrl = pathToFileURL(join(repoRoot(), 'dist/services/dispatcher/src/wiring/history-reader-worker.js'))
const dir = mkdtempSync(join(tmpdir(), 'whd-reader-'))
const path = join(dir, 'history.sqlite')
const T0 = Date.parse('2026-12-01T00:00:00Z')
// Enough rows that a day's delivered-events list takes the reader a long
// while (about a quarter of a second on the 2-core development machine).
const ROWS = 60_000

const log = pino({ level: 'silent' })

let direct: HistoryStore
const eventIds: string[] = []
const failedIds: string[] = []

beforeAll(async () => {
  direct = await openSqlHistoryStore(openSqliteDriver(path))
  for (let from = 0; from < ROWS; from += 5000) {
    await direct.insert(Array.from({ length: 5000 }, (_, i) => {
      const eventId = randomUUID()
      if ((from + i) % 10_000 === 7) eventIds.push(eventId)
      if ((from + i) % 10 === 0) failedIds.push(eventId)
      return attempt({ eventId, startedAt: T0 + (from + i) * 1000, httpStatus: (from + i) % 10 === 0 ? 503 : 200, outcome: (from + i) % 10 === 0 ? 'failed' : 'delivered' })
    }))
  }
})

afterAll(async () => {
  await direct.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('the history reader thread', () => {
  it('answers every read exactly as the store does', async () => {
    const reader = new ThreadHistoryStore({ resourceLimits: {}, log, workerUrl, path })
    try {
      expect(await reader.storeId()).toBe(await direct.storeId())
      expect(await reader.count()).toBe(ROWS)
      for (const eventId of eventIds) expect(await reader.eventRecords('tenant-a', eventId)).toEqual(await direct.eventRecords('tenant-a', eventId))
      expect(await reader.eventRecords('tenant-b', eventIds[0] as string)).toEqual([])
      const query = { limit: 50, statusClass: '5xx' as const, from: T0 + 1000 }
      const page = await reader.attempts('tenant-a', 'sub-a', query)
      expect(page).toEqual(await direct.attempts('tenant-a', 'sub-a', query))
      expect(page.items).toHaveLength(50)
      expect(typeof page.items[0]?.sourceOffset).toBe('bigint')
      const totals = await reader.totals('tenant-a', 'sub-a', T0)
      expect(totals).toEqual(await direct.totals('tenant-a', 'sub-a', T0))
      expect(totals.buckets).toBeInstanceOf(Map)
      await expect(reader.insert()).rejects.toThrow(/does not write/)
    } finally {
      await reader.close()
    }
  })

  it('leaves the asking thread free while a long query runs', async () => {
    const reader = new ThreadHistoryStore({ resourceLimits: {}, log, workerUrl, path })
    try {
      // Turns of this thread's event loop while the query is out. On this
      // thread, node:sqlite would run it to its end without one.
      let turns = 0
      let done = false
      const turn = (): void => { if (!done) { turns++; setImmediate(turn) } }
      setImmediate(turn)
      const started = performance.now()
      const delivered = await reader.deliveredEventIds('tenant-a', 'sub-a', T0)
      const tookMs = performance.now() - started
      done = true
      expect(delivered.size).toBe(ROWS * 9 / 10)
      // Every delivered event in, every failed one out, however the set crossed over.
      const expected = await direct.deliveredEventIds('tenant-a', 'sub-a', T0) as Set<string>
      expect([...expected].filter((id) => !delivered.has(id))).toEqual([])
      expect(failedIds.filter((id) => delivered.has(id))).toEqual([])
      // At least one turn per 5 ms the query took: a free loop turns thousands of times.
      expect(turns).toBeGreaterThan(Math.floor(tookMs / 5))
    } finally {
      await reader.close()
    }
  })

  it('closes a thread that has had no query for a while, and starts another for the next query', async () => {
    const reader = new ThreadHistoryStore({ resourceLimits: {}, log, workerUrl, path, idleMs: 50 })
    try {
      expect(await reader.heap()).toBeUndefined()
      expect(await reader.count()).toBe(ROWS)
      expect(await reader.heap()).toMatchObject({ used: expect.any(Number) })
      await waitUntil('the idle reader thread closed', async () => (await reader.heap()) === undefined)
      expect(await reader.eventRecords(undefined, eventIds[1] as string)).toEqual(await direct.eventRecords(undefined, eventIds[1] as string))
    } finally {
      await reader.close()
    }
  })

  it('answers every query that races a thread closing for idleness', async () => {
    const reader = new ThreadHistoryStore({ resourceLimits: {}, log, workerUrl, path, idleMs: 1 })
    try {
      const counts: number[] = []
      // Each pause lands before, at or after the 1 ms idle close, and some queries go out together.
      for (let i = 0; i < 24; i++) {
        counts.push(...await Promise.all(Array.from({ length: 1 + (i % 3) }, async () => await reader.count())))
        await new Promise((resolve) => setTimeout(resolve, i % 4))
      }
      expect(new Set(counts)).toEqual(new Set([ROWS]))
    } finally {
      await reader.close()
    }
  })

  it('fails only the query that killed it (past its heap limit) with WHD_ERR_HISTORY_UNAVAILABLE, and starts again for the next', async () => {
    const reader = new ThreadHistoryStore({ resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 }, log, workerUrl, path })
    try {
      expect(await reader.count()).toBe(ROWS)
      // Every row, with every column, in one answer: more than 24 MiB of heap.
      const huge = reader.attempts('tenant-a', 'sub-a', { limit: ROWS })
      await expect(huge).rejects.toMatchObject({ code: 'WHD_ERR_HISTORY_UNAVAILABLE', retriable: true })
      expect(await reader.count()).toBe(ROWS)
    } finally {
      await reader.close()
    }
    await expect(reader.count()).rejects.toMatchObject({ code: 'WHD_ERR_HISTORY_UNAVAILABLE' })
  })
})
