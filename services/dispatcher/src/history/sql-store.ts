import { randomUUID } from 'node:crypto'
import type { AttemptEntry } from '../engine/attempt-log.js'
import { EVENT_BUCKET, migrations } from './migrations.js'
import type { SqlDriver } from './sql-driver.js'
import { latencyBucket, type AttemptPage, type AttemptQuery, type AttemptTotals, type HistoryStore, type IndexedAttempt } from './store.js'

const COLUMNS = [
  'attempt_id', 'event_id', 'event_type', 'tenant_id', 'subscription_id', 'account_id', 'occurred_at', 'source_topic', 'source_partition',
  'source_offset', 'attempt_number', 'lane', 'kind', 'outcome', 'started_at', 'duration_ms', 'duration_bucket', 'http_status', 'error_code',
  'next_attempt_at', 'response_body_prefix', 'log_partition', 'log_offset'
] as const

// Rows per INSERT. PostgreSQL takes 200 (23 parameters each, under its
// limit) in a round trip. SQLite has no round trip to save, and one row
// through a statement prepared once costs it less CPU than 200 through a
// statement of 4,600 parameters (15 % less at the indexer's batch sizes).
const INSERT_ROWS = { postgres: 200, sqlite: 1 } as const
const ROW = `(${COLUMNS.map(() => '?').join(', ')})`

function insertStatement (rows: number): string {
  return `INSERT INTO attempts (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => ROW).join(', ')} ON CONFLICT DO NOTHING`
}
/**
 * An event's rows, oldest first; parameters: the event id, then the tenant
 * if `scoped`. SQLite's event index leads with the minute an attempt
 * started (migrations.ts): the query steps through the minutes the index
 * holds, from its first, each step and each minute's lookup one search of
 * the index — about 40 ms for a store that spans 30 days (bench/history-index.md).
 * Only minutes that hold rows are visited, so a gap (or a row far off in
 * time) costs nothing. CROSS JOIN keeps the minutes as the outer loop:
 * left to itself the planner scanned the table.
 */
export function eventRecordsQuery (dialect: SqlDriver['dialect'], scoped: boolean): string {
  const order = 'ORDER BY a.started_at, a.attempt_number, a.log_partition, a.log_offset'
  const tenant = scoped ? ' AND a.tenant_id = ?' : ''
  if (dialect === 'postgres') return `SELECT a.* FROM attempts a WHERE a.event_id = ?${tenant} ${order}`
  return `WITH RECURSIVE minutes (m) AS (
      SELECT MIN(${EVENT_BUCKET}) FROM attempts
      UNION ALL
      SELECT (SELECT ${EVENT_BUCKET} FROM attempts WHERE ${EVENT_BUCKET} > minutes.m ORDER BY ${EVENT_BUCKET} LIMIT 1) FROM minutes WHERE m IS NOT NULL
    )
    SELECT a.* FROM minutes CROSS JOIN attempts a WHERE a.${EVENT_BUCKET} = minutes.m AND a.event_id = ?${tenant} ${order}`
}

// Any constant shared by every instance of one store.
const MIGRATION_LOCK = 0x77686431

function toParams (e: IndexedAttempt): unknown[] {
  return [
    e.attemptId, e.eventId, e.eventType, e.tenantId, e.subscriptionId, e.accountId, e.occurredAt, e.sourceTopic, e.sourcePartition,
    e.sourceOffset, e.attemptNumber, e.lane, e.kind, e.outcome, e.startedAt, e.durationMs ?? null,
    e.durationMs === undefined ? null : latencyBucket(e.durationMs), e.httpStatus ?? null, e.errorCode ?? null,
    e.nextAttemptAt ?? null, e.responseBodyPrefix ?? null, e.logPartition, e.logOffset
  ]
}

// PostgreSQL hands BIGINT over as a string, SQLite as a number.
const int = (value: unknown): number => Number(value)

function fromRow (r: Record<string, unknown>): IndexedAttempt {
  const entry: IndexedAttempt = {
    attemptId: r.attempt_id as string,
    eventId: r.event_id as string,
    eventType: r.event_type as string,
    tenantId: r.tenant_id as string,
    subscriptionId: r.subscription_id as string,
    accountId: r.account_id as string,
    occurredAt: int(r.occurred_at),
    sourceTopic: r.source_topic as string,
    sourcePartition: int(r.source_partition),
    sourceOffset: BigInt(r.source_offset as number | string | bigint),
    attemptNumber: int(r.attempt_number),
    lane: r.lane as AttemptEntry['lane'],
    kind: r.kind as AttemptEntry['kind'],
    outcome: r.outcome as AttemptEntry['outcome'],
    startedAt: int(r.started_at),
    logPartition: int(r.log_partition),
    logOffset: BigInt(r.log_offset as number | string | bigint)
  }
  if (r.duration_ms !== null) entry.durationMs = int(r.duration_ms)
  if (r.http_status !== null) entry.httpStatus = int(r.http_status)
  if (r.error_code !== null) entry.errorCode = r.error_code as string
  if (r.next_attempt_at !== null) entry.nextAttemptAt = int(r.next_attempt_at)
  if (r.response_body_prefix !== null) entry.responseBodyPrefix = r.response_body_prefix as string
  return entry
}

const STATUS_RANGES = { '2xx': [200, 299], '3xx': [300, 399], '4xx': [400, 499], '5xx': [500, 599] } as const

/**
 * The history index on SQL, the same statements for SQLite and PostgreSQL.
 * `open` applies the migrations the database has not seen and makes the
 * store id on first use.
 */
export async function openSqlHistoryStore (db: SqlDriver): Promise<HistoryStore> {
  await db.transaction(async (tx) => {
    await tx.execute('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
    const rows = await tx.query<{ value: string }>('SELECT value FROM meta WHERE key = ?', ['schema_version'])
    let version = rows.length === 0 ? 0 : Number(rows[0]?.value)
    for (const migration of migrations) {
      if (migration.version <= version) continue
      for (const statement of migration[db.dialect]) await tx.execute(statement)
      version = migration.version
    }
    await tx.execute('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', ['schema_version', String(version)])
    await tx.execute('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', ['store_id', randomUUID()])
  }, MIGRATION_LOCK)

  // One text for every full chunk: the SQLite driver finds its prepared statement by it.
  const fullInsert = insertStatement(INSERT_ROWS[db.dialect])
  return {
    kind: db.dialect,
    async storeId () {
      const rows = await db.query<{ value: string }>('SELECT value FROM meta WHERE key = ?', ['store_id'])
      return rows[0]?.value as string
    },
    async insert (entries) {
      if (entries.length === 0) return 0
      const rows = INSERT_ROWS[db.dialect]
      return await db.transaction(async (tx) => {
        if (rows === 1) return await tx.executeEach(fullInsert, entries.map(toParams))
        let added = 0
        for (let i = 0; i < entries.length; i += rows) {
          const chunk = entries.slice(i, i + rows)
          added += await tx.execute(chunk.length === rows ? fullInsert : insertStatement(chunk.length), chunk.flatMap(toParams))
        }
        return added
      })
    },
    async eventRecords (tenantId, eventId) {
      const rows = tenantId === undefined
        ? await db.query(eventRecordsQuery(db.dialect, false), [eventId])
        : await db.query(eventRecordsQuery(db.dialect, true), [eventId, tenantId])
      return rows.map(fromRow)
    },
    async attempts (tenantId, subscriptionId, q: AttemptQuery): Promise<AttemptPage> {
      const where = ['tenant_id = ?', 'subscription_id = ?']
      const params: unknown[] = [tenantId, subscriptionId]
      if (q.outcomes !== undefined && q.outcomes.length > 0) {
        where.push(`outcome IN (${q.outcomes.map(() => '?').join(', ')})`)
        params.push(...q.outcomes)
      }
      if (q.statusClass === 'none') {
        where.push('kind = ?', 'http_status IS NULL')
        params.push('attempt')
      } else if (q.statusClass !== undefined) {
        where.push('http_status BETWEEN ? AND ?')
        params.push(...STATUS_RANGES[q.statusClass])
      }
      if (q.eventType !== undefined) { where.push('event_type = ?'); params.push(q.eventType) }
      if (q.accountId !== undefined) { where.push('account_id = ?'); params.push(q.accountId) }
      if (q.from !== undefined) { where.push('started_at >= ?'); params.push(q.from) }
      if (q.to !== undefined) { where.push('started_at < ?'); params.push(q.to) }
      if (q.after !== undefined) {
        where.push('(started_at < ? OR (started_at = ? AND attempt_id < ?))')
        params.push(q.after.startedAt, q.after.startedAt, q.after.attemptId)
      }
      const rows = await db.query(`SELECT * FROM attempts WHERE ${where.join(' AND ')} ORDER BY started_at DESC, attempt_id DESC LIMIT ?`, [...params, q.limit + 1])
      const items = rows.slice(0, q.limit).map(fromRow)
      const last = items.at(-1)
      return rows.length > q.limit && last !== undefined ? { items, next: { startedAt: last.startedAt, attemptId: last.attemptId } } : { items }
    },
    async totals (tenantId, subscriptionId, since): Promise<AttemptTotals> {
      const rows = await db.query<{ bucket: unknown, delivered: unknown, n: unknown }>(
        `SELECT duration_bucket AS bucket, SUM(CASE WHEN outcome = 'delivered' THEN 1 ELSE 0 END) AS delivered, COUNT(*) AS n
         FROM attempts WHERE tenant_id = ? AND subscription_id = ? AND kind = 'attempt' AND started_at >= ? GROUP BY duration_bucket`,
        [tenantId, subscriptionId, since]
      )
      const totals: AttemptTotals = { attempts: 0, delivered: 0, buckets: new Map() }
      for (const row of rows) {
        totals.attempts += int(row.n)
        totals.delivered += int(row.delivered)
        if (row.bucket !== null) totals.buckets.set(int(row.bucket), int(row.n))
      }
      return totals
    },
    async deliveredEventIds (tenantId, subscriptionId, since) {
      const rows = await db.query<{ event_id: string }>(
        'SELECT DISTINCT event_id FROM attempts WHERE tenant_id = ? AND subscription_id = ? AND started_at >= ? AND kind = \'attempt\' AND outcome = \'delivered\'',
        [tenantId, subscriptionId, since]
      )
      return new Set(rows.map((r) => r.event_id))
    },
    async prune (before) {
      return await db.execute('DELETE FROM attempts WHERE started_at < ?', [before])
    },
    async count () {
      const rows = await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM attempts')
      return int(rows[0]?.n)
    },
    close: async () => { await db.close() }
  }
}
