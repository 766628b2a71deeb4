/**
 * The history index's schema, one step per version, in both dialects. A
 * store applies the steps above the version it records in `meta`, in one
 * transaction (PostgreSQL: under an advisory lock, since several instances
 * start at once). Steps are never edited once released: add a new one.
 */
export interface Migration {
  version: number
  sqlite: string[]
  postgres: string[]
}

const columns = (int64: string): string => `
  attempt_id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  occurred_at ${int64} NOT NULL,
  source_topic TEXT NOT NULL,
  source_partition INTEGER NOT NULL,
  source_offset ${int64} NOT NULL,
  attempt_number INTEGER NOT NULL,
  lane TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  started_at ${int64} NOT NULL,
  duration_ms INTEGER,
  duration_bucket INTEGER,
  http_status INTEGER,
  error_code TEXT,
  next_attempt_at ${int64},
  response_body_prefix TEXT,
  log_partition INTEGER NOT NULL,
  log_offset ${int64} NOT NULL`

const byEndpoint = 'CREATE INDEX attempts_by_endpoint ON attempts (tenant_id, subscription_id, started_at DESC, attempt_id DESC)'
const indexes = [
  'CREATE INDEX attempts_by_event ON attempts (tenant_id, event_id)',
  byEndpoint,
  'CREATE INDEX attempts_by_age ON attempts (started_at)'
]

// Version 2 keeps one index on a random key, the event id. The attempt id
// (a random UUID) was the primary key: each insert dirtied a page at a
// random place in it, and each commit wrote those pages out again, the
// larger part of the indexer's CPU. A record comes again only as itself
// (read again after a restart, or produced twice by a retried write), so
// its start time and attempt id together find the copy, in an index that
// grows at its end and serves pruning. The event index drops its leading
// tenant: an event id finds its few rows, whose tenant is checked on them,
// and an operator's lookup without a tenant can use it too.
const byTime = 'CREATE UNIQUE INDEX attempts_by_time ON attempts (started_at, attempt_id)'
const byEvent = 'CREATE INDEX attempts_by_event ON attempts (event_id)'

/**
 * The minute an attempt started, which leads version 3's event index in
 * SQLite: a query must write it exactly so for the index to serve it.
 * Changing it takes a new migration.
 */
export const EVENT_BUCKET = 'started_at / 60000'

// Version 3 (SQLite): the event index is keyed by the minute an attempt
// started, then its event id. Keyed by the random event id alone, the
// inserts of one transaction dirtied pages all over the index, and SQLite's
// commit writes each dirtied page out whole: the larger the store, the
// dearer each insert (bench/history-index.md). Now they land among the
// current minute's pages. A lookup by event id searches each minute that
// holds rows (sql-store.ts), tens of milliseconds for 30 days of them, on
// the reader thread (wiring/history-reader.ts). PostgreSQL keeps the plain
// index: it logs rows, not pages, and writes a dirtied page out once per
// checkpoint.
const byEventTime = `CREATE INDEX attempts_by_event_time ON attempts (${EVENT_BUCKET}, event_id)`

export const migrations: readonly Migration[] = [
  {
    version: 1,
    sqlite: [`CREATE TABLE attempts (${columns('INTEGER')})`, ...indexes],
    postgres: [`CREATE TABLE attempts (${columns('BIGINT')})`, ...indexes]
  },
  {
    version: 2,
    // SQLite cannot drop a primary key: the table is copied once.
    sqlite: [
      `CREATE TABLE attempts_v2 (${columns('INTEGER').replace('attempt_id TEXT PRIMARY KEY', 'attempt_id TEXT NOT NULL')})`,
      'INSERT INTO attempts_v2 SELECT * FROM attempts ORDER BY started_at',
      'DROP TABLE attempts',
      'ALTER TABLE attempts_v2 RENAME TO attempts',
      byTime,
      byEvent,
      byEndpoint
    ],
    postgres: [
      'ALTER TABLE attempts DROP CONSTRAINT attempts_pkey',
      'DROP INDEX attempts_by_age',
      'DROP INDEX attempts_by_event',
      byTime,
      byEvent
    ]
  },
  {
    version: 3,
    sqlite: [
      'DROP INDEX attempts_by_event',
      byEventTime,
      // In start-time order, each endpoint's newest rows go at the end of
      // its range instead of its start: pages fill, and inserts cost less
      // (10 % at a million rows over 91 endpoints). Read backwards, the
      // index still serves the newest-first pages without a sort.
      'DROP INDEX attempts_by_endpoint',
      'CREATE INDEX attempts_by_endpoint ON attempts (tenant_id, subscription_id, started_at, attempt_id)'
    ],
    postgres: []
  }
]
