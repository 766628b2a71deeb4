import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const prometheusScript = join(import.meta.dirname, '../../../deploy/local/prometheus.sh')
export const rulesFile = join(import.meta.dirname, '../../../deploy/prometheus/webhook-dispatcher-rules.yml')
export const rulesTestFile = join(import.meta.dirname, '../../../deploy/prometheus/webhook-dispatcher-rules.test.yml')

/**
 * Where `prometheus` and `promtool` are (`deploy/local/prometheus.sh paths`);
 * fails with the script's hint (run `prometheus.sh ensure`) when they are missing.
 */
export async function prometheusBinaries (): Promise<{ prometheus: string, promtool: string }> {
  const { stdout } = await run('bash', [prometheusScript, 'paths']).catch((err: { stderr?: string, message: string }) => {
    throw new Error(`Prometheus is not installed: ${err.stderr ?? err.message}`)
  })
  const value = (key: string): string => {
    const line = stdout.split('\n').find((l) => l.startsWith(`${key}=`))
    if (line === undefined) throw new Error(`prometheus.sh paths printed no ${key}=: ${stdout}`)
    return line.slice(key.length + 1)
  }
  return { prometheus: value('prometheus'), promtool: value('promtool') }
}

/** Runs a command and returns its exit code and everything it printed (never throws on a non-zero exit). */
export async function runTool (file: string, args: string[], options: { cwd?: string } = {}): Promise<{ code: number, output: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { ...options, timeout: 60_000 })
    return { code: 0, output: stdout + stderr }
  } catch (err) {
    const e = err as { code?: number | string, stdout?: string, stderr?: string, message: string }
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout === undefined ? e.message : ''}` }
  }
}

/** Starts Prometheus on 127.0.0.1:`port` with `prometheus.sh start` (waits until ready). */
export async function startPrometheus (config: string, port: number, dataDir: string): Promise<void> {
  const { code, output } = await runTool('bash', [prometheusScript, 'start', config, String(port), dataDir])
  if (code !== 0) throw new Error(`prometheus.sh start failed (${code}):\n${output}`)
}

export async function stopPrometheus (dataDir: string): Promise<void> {
  await runTool('bash', [prometheusScript, 'stop', dataDir])
}

export interface PromSeries { metric: Record<string, string>, value?: [number, string], values?: Array<[number, string]> }

/** A small client of the Prometheus HTTP API (v1) on loopback. */
export function prometheusApi (baseUrl: string) {
  const get = async <T>(path: string, params: Record<string, string | string[]>): Promise<T> => {
    const url = new URL(path, baseUrl)
    for (const [key, value] of Object.entries(params)) {
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v)
    }
    const res = await fetch(url)
    const body = await res.json() as { status: string, data: T, error?: string }
    if (body.status !== 'success') throw new Error(`${url.pathname}: ${body.error ?? res.status} (${JSON.stringify(params)})`)
    return body.data
  }
  return {
    /** Instant query; returns the result vector. */
    query: async (expr: string, time?: number) => (await get<{ result: PromSeries[] }>('/api/v1/query', time === undefined ? { query: expr } : { query: expr, time: String(time) })).result,
    /** The value of a query that yields one series, or undefined. */
    scalar: async (expr: string): Promise<number | undefined> => {
      const result = (await get<{ result: PromSeries[] }>('/api/v1/query', { query: expr })).result
      return result.length === 1 && result[0]?.value !== undefined ? Number(result[0].value[1]) : undefined
    },
    queryRange: async (expr: string, startS: number, endS: number, stepS: number) =>
      (await get<{ result: PromSeries[] }>('/api/v1/query_range', { query: expr, start: String(startS), end: String(endS), step: String(stepS) })).result,
    alerts: async () => (await get<{ alerts: Array<{ labels: Record<string, string>, state: 'pending' | 'firing', value: string }> }>('/api/v1/alerts', {})).alerts,
    labelNames: async (match: string) => get<string[]>('/api/v1/labels', { 'match[]': match }),
    rules: async () => (await get<{ groups: Array<{ rules: Array<{ name: string, health: string, lastError?: string, type: string }> }> }>('/api/v1/rules', {})).groups
  }
}
