// `make bench` (third part): what an insert into the SQLite history index
// costs as the store grows, and what a lookup by event id costs, for the
// event index of schema v3 (led by the minute an attempt started) and the
// one before it (the event id alone, schema v2), side by side in one run.
//
// 1. Two stores grow in step, batch by batch in alternating order, fed the
//    way the indexer feeds them (`store.insert`, 4,000 attempts per
//    transaction, ids random, one attempt per millisecond: a busy instance).
//    At each size in BENCH_INDEX_SIZES, the CPU of the next
//    BENCH_INDEX_MEASURE attempts' inserts is taken, per attempt.
// 2. Two more stores hold BENCH_INDEX_LOOKUP_ROWS attempts spread over 30
//    days (HISTORY_RETENTION_DAYS' default): the time an event's lookup
//    takes, averaged over BENCH_INDEX_LOOKUPS events.
// 3. A store of BENCH_INDEX_QUERY_ROWS attempts of one endpoint over a day:
//    how long the admin API's heavier queries hold the thread that asks, on
//    the store directly (as the delivery thread did) and through the reader
//    thread (wiring/history-reader.ts): the longest turn of the asking
//    thread's event loop while each runs.
//
// No Kafka: the SQLite files only, under the system's temporary directory.
// Build and run: tsc -p test/bench/tsconfig.json && node dist/test/bench/history-index.js
import { randomUUID } from 'node:crypto'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pino } from 'pino'
import { eventRecordsQuery, openSqlHistoryStore } from '../../services/dispatcher/src/history/sql-store.js'
import type { SqlDriver } from '../../services/dispatcher/src/history/sql-driver.js'
import { openSqliteDriver } from '../../services/dispatcher/src/history/sqlite-driver.js'
import type { HistoryStore, IndexedAttempt } from '../../services/dispatcher/src/history/store.js'
import { ThreadHistoryStore } from '../../services/dispatcher/src/wiring/history-reader.js'
import { envInteger } from './env-integer.js'

const startedAt = Date.now()
const log = (line: string): void => { process.stderr.write(`[bench-history-index +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`) }

const BATCH = 4000
const DAY_MS = 86_400_000
const RETENTION_DAYS = 30

const env = process.env
const sizes = (env.BENCH_INDEX_SIZES ?? '0,250000,1000000,2000000').split(',').map((raw) => envInteger({ BENCH_INDEX_SIZES: raw }, 'BENCH_INDEX_SIZES', 0, 0, 20_000_000))
const measured = envInteger(env, 'BENCH_INDEX_MEASURE', 40_000, BATCH, 1_000_000)
const lookupRows = envInteger(env, 'BENCH_INDEX_LOOKUP_ROWS', 500_000, 1000, 10_000_000)
const lookups = envInteger(env, 'BENCH_INDEX_LOOKUPS', 20, 1, 1000)
const queryRows = envInteger(env, 'BENCH_INDEX_QUERY_ROWS', 1_000_000, 1000, 10_000_000)
if (sizes.some((size, i) => i > 0 && size <= (sizes[i - 1] as number))) throw new Error('BENCH_INDEX_SIZES must rise')

interface Layout {
  name: string
  driver: SqlDriver
  store: HistoryStore
  lookUp: (eventId: string) => Promise<number>
}

/** A store of the current schema; `v2` puts back the event index schema v2 had, and looks up by it. */
async function openLayout (dir: string, name: string, v2: boolean): Promise<Layout> {
  const driver = openSqliteDriver(join(dir, `${name}.sqlite`))
  const store = await openSqlHistoryStore(driver)
  if (!v2) return { name, driver, store, lookUp: async (eventId) => (await store.eventRecords(undefined, eventId)).length }
  await driver.execute('DROP INDEX attempts_by_event_time')
  await driver.execute('CREATE INDEX attempts_by_event ON attempts (event_id)')
  return { name, driver, store, lookUp: async (eventId) => (await driver.query(eventRecordsQuery('postgres', false), [eventId])).length }
}

/** An attempt of one of 91 endpoints (7 tenants, 13 subscriptions), or of one; a tenth of them failed. */
function attemptAt (startedAt: number, n: number, oneEndpoint = false): IndexedAttempt {
  const failed = n % 10 === 0
  return {
    attemptId: randomUUID(),
    eventId: randomUUID(),
    eventType: 'transaction.posted',
    tenantId: oneEndpoint ? 'tenant-0' : `tenant-${n % 7}`,
    subscriptionId: oneEndpoint ? 'sub-0' : `sub-${n % 13}`,
    accountId: `acc-${n % 4000}`,
    occurredAt: startedAt - 40,
    sourceTopic: 'banking.transactions.v1',
    sourcePartition: n % 12,
    sourceOffset: BigInt(n),
    attemptNumber: 1,
    lane: 'source',
    kind: 'attempt',
    outcome: failed ? 'failed' : 'delivered',
    startedAt,
    durationMs: 3 + (n % 200),
    httpStatus: failed ? 503 : 204,
    logPartition: n % 12,
    logOffset: BigInt(n)
  }
}

const cpuMicros = (): number => { const { user, system } = process.cpuUsage(); return user + system }

/** Inserts `count` attempts from `first` into every layout, batch by batch, alternating which goes first; CPU µs spent in each. */
async function grow (layouts: Array<Pick<Layout, 'store'>>, first: number, count: number, startAt: (n: number) => number, keep?: (attempt: IndexedAttempt) => void, oneEndpoint = false): Promise<number[]> {
  const spent = layouts.map(() => 0)
  for (let from = first, round = 0; from < first + count; from += BATCH, round++) {
    const batch = Array.from({ length: Math.min(BATCH, first + count - from) }, (_, i) => attemptAt(startAt(from + i), from + i, oneEndpoint))
    if (keep !== undefined) for (const attempt of batch) keep(attempt)
    const order = round % 2 === 0 ? layouts.map((_, i) => i) : layouts.map((_, i) => layouts.length - 1 - i)
    for (const i of order) {
      const before = cpuMicros()
      await (layouts[i] as Pick<Layout, 'store'>).store.insert(batch)
      spent[i] = (spent[i] as number) + cpuMicros() - before
    }
  }
  return spent
}

interface Hold { ms: number, longestTurnMs: number }

/** How long `work` took, and the longest this thread's event loop went without a turn meanwhile. */
async function holdOf (work: () => Promise<unknown>): Promise<Hold> {
  let last = performance.now()
  let longest = 0
  let running = true
  const turn = (): void => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    if (running) setImmediate(turn)
  }
  setImmediate(turn)
  const from = performance.now()
  await work()
  const ms = performance.now() - from
  running = false
  return { ms, longestTurnMs: Math.max(longest, performance.now() - last) }
}

async function main (): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'whd-bench-index-'))
  const load: number[] = []
  const sampler = setInterval(() => { load.push(loadavg()[0] as number) }, 2000)
  try {
    const t0 = Date.UTC(2026, 11, 1)
    const growing = [await openLayout(dir, 'v2', true), await openLayout(dir, 'v3', false)]
    const costs: Array<{ before: number, us: number[] }> = []
    let rows = 0
    for (const size of sizes) {
      if (size > rows) {
        log(`filling both stores to ${size} attempts`)
        await grow(growing, rows, size - rows, (n) => t0 + n)
        rows = size
      }
      const spent = await grow(growing, rows, measured, (n) => t0 + n)
      rows += measured
      costs.push({ before: size, us: spent.map((us) => us / measured) })
      log(`after ${size}: ${growing.map((l, i) => `${l.name} ${(costs.at(-1)?.us[i] as number).toFixed(1)} µs`).join(', ')} per attempt`)
    }
    for (const layout of growing) await layout.store.close()

    log(`${lookupRows} attempts over ${RETENTION_DAYS} days into two more stores`)
    const spread = [await openLayout(dir, 'v2-30d', true), await openLayout(dir, 'v3-30d', false)]
    const sought: string[] = []
    const minutes = new Set<number>()
    const every = Math.max(1, Math.floor(lookupRows / lookups))
    await grow(spread, 0, lookupRows, (n) => t0 - RETENTION_DAYS * DAY_MS + Math.floor(n * RETENTION_DAYS * DAY_MS / lookupRows), (attempt) => {
      minutes.add(Math.floor(attempt.startedAt / 60_000))
      if (Number(attempt.logOffset) % every === every - 1 && sought.length < lookups) sought.push(attempt.eventId)
    })
    const lookupMs = []
    for (const layout of spread) {
      await layout.lookUp(sought[0] as string)
      const from = performance.now()
      let found = 0
      for (const eventId of sought) found += await layout.lookUp(eventId)
      if (found !== sought.length) throw new Error(`${layout.name}: ${found} of ${sought.length} events found`)
      lookupMs.push((performance.now() - from) / sought.length)
      await layout.store.close()
    }

    log(`${queryRows} attempts of one endpoint over a day into one more store`)
    const dayPath = join(dir, 'one-endpoint.sqlite')
    const day = await openSqlHistoryStore(openSqliteDriver(dayPath))
    const dayStart = t0 - DAY_MS
    let sample = ''
    await grow([{ store: day }], 0, queryRows, (n) => dayStart + Math.floor(n * DAY_MS / queryRows), (attempt) => { sample = attempt.eventId }, true)
    const reader = new ThreadHistoryStore({ path: dayPath, resourceLimits: {}, log: pino({ level: 'silent' }) })
    const queries: Array<[string, (store: HistoryStore) => Promise<unknown>]> = [
      ['an endpoint\'s stats over 24 hours (`totals`)', async (store) => await store.totals('tenant-0', 'sub-0', dayStart)],
      ['the events delivered to it in 24 hours, for a replay with onlyFailed (`deliveredEventIds`)', async (store) => await store.deliveredEventIds('tenant-0', 'sub-0', dayStart)],
      ['its newest 100 attempts with status 4xx (none: the index is walked to its end)', async (store) => await store.attempts('tenant-0', 'sub-0', { limit: 100, statusClass: '4xx' })],
      ['an event (`eventRecords`)', async (store) => await store.eventRecords('tenant-0', sample)]
    ]
    await reader.count()
    const holds: Array<{ name: string, direct: Hold, threaded: Hold }> = []
    for (const [name, query] of queries) {
      const direct = await holdOf(async () => await query(day))
      const threaded = await holdOf(async () => await query(reader))
      holds.push({ name, direct, threaded })
      log(`${name}: direct ${direct.ms.toFixed(0)} ms (longest turn ${direct.longestTurnMs.toFixed(0)}), through the reader ${threaded.ms.toFixed(0)} ms (longest turn ${threaded.longestTurnMs.toFixed(1)})`)
    }
    await reader.close()
    await day.close()

    const x = (i: number) => (c: { us: number[] }): string => `${((c.us[0] as number) / (c.us[i] as number)).toFixed(1)}×`
    const markdown = [
      '# Delivery history: the SQLite index as it grows',
      '',
      `Run ${new Date().toISOString()} by \`make bench\` (test/bench/history-index.ts). Load average (1 min) during the run: ${Math.min(...load, loadavg()[0] as number).toFixed(1)}–${Math.max(...load, loadavg()[0] as number).toFixed(1)} on ${cpus().length} cores.`,
      '',
      `Two SQLite stores grow side by side, batch by batch in alternating order, fed as the indexer feeds them: ${BATCH.toLocaleString('en')} attempts per transaction, random attempt and event ids, one attempt per millisecond (1,000 a second, a busy instance; the current minute holds 60,000). One has the event index of schema v3, led by the minute an attempt started; the other the index schema v2 had, on the event id alone. CPU of the inserts (user + system, this process: SQLite runs in it) per attempt, over the ${measured.toLocaleString('en')} attempts after each size.`,
      '',
      '| Attempts in the store | v2: event id alone, µs | v3: minute, then event id, µs | v2 ÷ v3 |',
      '|--:|--:|--:|--:|',
      ...costs.map((c) => `| ${c.before.toLocaleString('en')} | ${(c.us[0] as number).toFixed(1)} | ${(c.us[1] as number).toFixed(1)} | ${x(1)(c)} |`),
      '',
      `Looking an event up (\`eventRecords\`, all of its attempts) in a store of ${lookupRows.toLocaleString('en')} attempts spread over ${RETENTION_DAYS} days, averaged over ${sought.length} events: **${(lookupMs[0] as number).toFixed(2)} ms** by the v2 index, **${(lookupMs[1] as number).toFixed(1)} ms** by the v3 index, which steps through the ${minutes.size.toLocaleString('en')} minutes that hold attempts (each step one search of the index).`,
      '',
      'Why: SQLite writes each page a transaction dirtied out whole at its commit. Keyed by a random event id, the inserts of one transaction dirty pages all over the event index, more of them as it grows; led by the minute, they dirty the current minute\'s pages only.',
      '',
      '## What a query holds up',
      '',
      `${queryRows.toLocaleString('en')} attempts of one endpoint over one day (a tenth failed). Each query asked of the store directly, on the asking thread, as the admin API did on the delivery thread; then through the reader thread. "Longest turn": the longest the asking thread\'s event loop went without a turn while the query ran, i.e. how long every delivery waited.`,
      '',
      '| Query | Asked directly: takes, ms | Longest turn, ms | Through the reader thread: takes, ms | Longest turn, ms |',
      '|---|--:|--:|--:|--:|',
      ...holds.map((h) => `| ${h.name} | ${h.direct.ms.toFixed(0)} | ${h.direct.longestTurnMs.toFixed(0)} | ${h.threaded.ms.toFixed(0)} | ${h.threaded.longestTurnMs.toFixed(1)} |`),
      '',
      'The reader hands a set of event ids over packed (`history/sorted-ids.ts`: the ids sorted into one string, and a buffer of where each ends), because the asking thread reads an answer before it can turn again: sent as a Set, 900,000 ids held it 0.33–0.4 s.',
      ''
    ].join('\n')
    const path = env.BENCH_INDEX_RESULTS ?? 'bench/history-index.md'
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, markdown)
    process.stdout.write(markdown)
    return 0
  } finally {
    clearInterval(sampler)
    await rm(dir, { recursive: true, force: true })
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`bench-history-index failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
