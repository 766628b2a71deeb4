// `make chaos`: the chaos run at full size (default 1,000,000 events over
// 2,000 accounts), then chaos/results.md (CHAOS_RESULTS). Exits 1 when an
// event was lost, an order violated, a signature refused or a webhook
// unexpected. Build and run: tsc -p test/chaos/tsconfig.json && node dist/test/chaos/main.js
//
// Settings (environment): CHAOS_EVENTS (1000000), CHAOS_ACCOUNTS (2000),
// CHAOS_PARTITIONS (12), CHAOS_OUTAGE_MS (60000), CHAOS_RATE (0: a backlog,
// produced as fast as the broker takes it), CHAOS_SETTLE_MS (1800000).
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { quietKafkajsTimerWarning } from '../../services/events/src/index.js'
import { repoRoot } from '../support/log-segments.js'
import { runChaos } from './run-chaos.js'
import { passed, renderResults } from './results.js'

const startedAt = Date.now()
function log (line: string): void {
  process.stderr.write(`[chaos +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`)
}

function setting (name: string, fallback: number, min: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`)
  return value
}

async function main (): Promise<number> {
  quietKafkajsTimerWarning()
  const abort = new AbortController()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the dispatchers, the receivers and the broker`)
      abort.abort()
    })
  }
  const report = await runChaos({
    signal: abort.signal,
    events: setting('CHAOS_EVENTS', 1_000_000, 100),
    accounts: setting('CHAOS_ACCOUNTS', 2000, 1),
    partitions: setting('CHAOS_PARTITIONS', 12, 1),
    outageMs: setting('CHAOS_OUTAGE_MS', 60_000, 0),
    produceRatePerSecond: setting('CHAOS_RATE', 0, 0),
    settleTimeoutMs: setting('CHAOS_SETTLE_MS', 1_800_000, 1000),
    log
  })
  const file = process.env.CHAOS_RESULTS ?? join(repoRoot(), 'chaos', 'results.md')
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, renderResults(report, 'make chaos'))
  log(`lost ${report.lost}, order violations ${report.orderViolations}, duplicates ${report.duplicates} ${JSON.stringify(report.duplicatesByPhase)}, signature failures ${report.badSignatures}, unexpected ${report.unexpected}, ${Math.round(report.deliveriesPerSecond)} deliveries/s, ${(report.runSeconds / 60).toFixed(1)} min; wrote ${file}`)
  return passed(report) ? 0 : 1
}

main().then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
})
