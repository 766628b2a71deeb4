/**
 * Benchmark settings, read once from the environment, validated, frozen.
 * Every load loop in the benchmark is bounded by a count and by one of these
 * time budgets.
 */
export interface BenchConfig {
  /** Passes over each workload; the report keeps each measure's fastest. */
  rounds: number
  /** Pre-produced events on the source topic. */
  events: number
  accounts: number
  partitions: number
  /** MAX_IN_FLIGHT and ENDPOINT_MAX_IN_FLIGHT of the dispatcher, and the concurrency of the HTTP ceiling. */
  maxInFlight: number
  /** How long the slow receiver (W2) takes per request. */
  slowReceiverMs: number
  /** Measuring window of the naive consumer, from its first delivery. */
  naiveBudgetMs: number
  /** Measuring window of the deliverer-only diagnostic. */
  delivererBudgetMs: number
  /** Longest a ceiling may take. */
  ceilingBudgetMs: number
  /** Longest the dispatcher may take to deliver the whole backlog. */
  dispatcherBudgetMs: number
  /** W1's latency phase: a fixed produce rate (events/s), for this long. */
  latencyRate: number
  latencySeconds: number
  /** Scale-out (W2, 1 then 2 instances): events per run (0 = skip), and each instance's MAX_IN_FLIGHT. */
  scaleEvents: number
  scaleMaxInFlight: number
  /** Upper bound of W2's paced phase produce rate (events/s). */
  pacedRate: number
  /** Paced rate as a share of the dispatcher's backlog throughput. */
  pacedShare: number
  pacedSeconds: number
  /** Where the markdown table goes (relative to the working directory). */
  resultsPath: string
  /** Write a V8 CPU profile of the first dispatcher run of each workload and summarise it. */
  profile: boolean
  /** Exit non-zero when a target is missed (a broken run always exits non-zero). */
  strict: boolean
}

interface Option {
  variable: string
  key: keyof BenchConfig
  defaultValue: string
  description: string
  parse: (raw: string, variable: string) => BenchConfig[keyof BenchConfig]
}

const integer = (min: number, max: number) => (raw: string, variable: string): number => {
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${variable} must be an integer from ${min} to ${max}, got "${raw}"`)
  return value
}

const share = (raw: string, variable: string): number => {
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0 || value > 1) throw new Error(`${variable} must be a number in (0, 1], got "${raw}"`)
  return value
}

const flag = (raw: string, variable: string): boolean => {
  if (raw === '1' || raw === 'true') return true
  if (raw === '0' || raw === 'false' || raw === '') return false
  throw new Error(`${variable} must be 0 or 1, got "${raw}"`)
}

const text = (raw: string): string => raw

export const benchOptions: readonly Option[] = [
  { variable: 'BENCH_ROUNDS', key: 'rounds', defaultValue: '2', description: 'passes over each workload; each measure\'s fastest counts', parse: integer(1, 5) },
  { variable: 'BENCH_EVENTS', key: 'events', defaultValue: '40000', description: 'events pre-produced to the source topic', parse: integer(100, 1_000_000) },
  { variable: 'BENCH_ACCOUNTS', key: 'accounts', defaultValue: '4000', description: 'accounts (ordering keys) the events spread over', parse: integer(1, 1_000_000) },
  { variable: 'BENCH_PARTITIONS', key: 'partitions', defaultValue: '12', description: 'partitions of the source topic', parse: integer(1, 256) },
  { variable: 'BENCH_MAX_IN_FLIGHT', key: 'maxInFlight', defaultValue: '512', description: 'dispatcher MAX_IN_FLIGHT and ENDPOINT_MAX_IN_FLIGHT (one endpoint), also the HTTP ceiling concurrency', parse: integer(1, 10_000) },
  { variable: 'BENCH_SLOW_MS', key: 'slowReceiverMs', defaultValue: '100', description: 'W2 receiver latency', parse: integer(1, 10_000) },
  { variable: 'BENCH_NAIVE_BUDGET_MS', key: 'naiveBudgetMs', defaultValue: '20000', description: 'naive consumer measuring window', parse: integer(1000, 600_000) },
  { variable: 'BENCH_DELIVERER_BUDGET_MS', key: 'delivererBudgetMs', defaultValue: '8000', description: 'deliverer-only diagnostic window', parse: integer(1000, 600_000) },
  { variable: 'BENCH_CEILING_BUDGET_MS', key: 'ceilingBudgetMs', defaultValue: '60000', description: 'longest a ceiling may run', parse: integer(1000, 600_000) },
  { variable: 'BENCH_DISPATCHER_BUDGET_MS', key: 'dispatcherBudgetMs', defaultValue: '180000', description: 'longest the dispatcher may take for the backlog', parse: integer(1000, 1_800_000) },
  { variable: 'BENCH_LATENCY_RATE', key: 'latencyRate', defaultValue: '1000', description: 'W1 latency phase: fixed produce rate, events/s', parse: integer(1, 100_000) },
  { variable: 'BENCH_LATENCY_SECONDS', key: 'latencySeconds', defaultValue: '20', description: 'W1 latency phase length', parse: integer(1, 600) },
  { variable: 'BENCH_SCALE_EVENTS', key: 'scaleEvents', defaultValue: '12000', description: 'scale-out on W2 (1 vs 2 instances): events per run; 0 skips it', parse: integer(0, 1_000_000) },
  { variable: 'BENCH_SCALE_MAX_IN_FLIGHT', key: 'scaleMaxInFlight', defaultValue: '64', description: 'scale-out: MAX_IN_FLIGHT and ENDPOINT_MAX_IN_FLIGHT of each instance (keeps one instance latency-bound)', parse: integer(1, 10_000) },
  { variable: 'BENCH_PACED_RATE', key: 'pacedRate', defaultValue: '500', description: 'W2 paced phase rate cap, events/s', parse: integer(1, 100_000) },
  { variable: 'BENCH_PACED_SHARE', key: 'pacedShare', defaultValue: '0.5', description: 'W2 paced rate as a share of measured dispatcher throughput', parse: share },
  { variable: 'BENCH_PACED_SECONDS', key: 'pacedSeconds', defaultValue: '10', description: 'W2 paced phase length', parse: integer(1, 600) },
  { variable: 'BENCH_RESULTS', key: 'resultsPath', defaultValue: 'bench/results.md', description: 'markdown output', parse: text },
  { variable: 'BENCH_PROFILE', key: 'profile', defaultValue: '0', description: 'CPU-profile the first dispatcher run of each workload (adds overhead)', parse: flag },
  { variable: 'BENCH_STRICT', key: 'strict', defaultValue: '0', description: 'exit 1 when a target is missed', parse: flag }
]

export function loadBenchConfig (env: Record<string, string | undefined> = process.env): Readonly<BenchConfig> {
  const config: Record<string, unknown> = {}
  for (const option of benchOptions) {
    config[option.key] = option.parse((env[option.variable] ?? option.defaultValue).trim(), option.variable)
  }
  const result = config as unknown as BenchConfig
  if (result.accounts > result.events) throw new Error('BENCH_ACCOUNTS must not exceed BENCH_EVENTS')
  return Object.freeze(result)
}
