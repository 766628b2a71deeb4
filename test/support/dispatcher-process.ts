import { freePort } from './free-port.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { uniqueTopic } from './kafka.js'
import { repoRoot } from './log-segments.js'
import { testStack } from './stack.js'
import { waitUntil } from './wait.js'

// From the sources or from their build under dist/ (make chaos runs the latter).
const mainJs = join(repoRoot(), 'dist/services/dispatcher/src/main.js')

export interface DispatcherProcess {
  child: ChildProcess
  metricsUrl: string
  /** Base URL of the admin API (http://127.0.0.1:port). */
  adminUrl: string
  /** Everything the process wrote, stdout and stderr. */
  output: () => string
  /** Resolves with the exit code. */
  exited: Promise<number | null>
  kill: (signal?: NodeJS.Signals) => void
}

export interface DispatcherSubscription {
  id: string
  tenantId: string
  url: string
  eventTypes: string[]
  secrets: string[]
  maxInFlight?: number
  rateLimitPerSecond?: number
}

/** Writes a subscriptions file for the file-backed store. */
export async function writeSubscriptionsFile (subscriptions: DispatcherSubscription[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'whd-subs-'))
  const path = join(dir, 'subscriptions.json')
  await writeFile(path, JSON.stringify({ subscriptions }, null, 2))
  return path
}

/** One encryption key for every dispatcher this test process starts, so they can share a subscriptions topic. */
export const testSecretsKeys = `test:${randomBytes(32).toString('base64')}`

interface StartOptions { waitReady?: boolean, cgroupProcs?: string }

// A port freePort() found free can be taken before the dispatcher binds it
// (another process's outgoing connection draws from the same range): such
// a start-up is tried again on fresh ports.
const STARTS_ON_PORT_RACE = 3

/**
 * Starts the built dispatcher (`dist/`, made by `make build`) as a child
 * process against the test stack and waits until it is ready (joined).
 */
export async function startDispatcher (env: Record<string, string>, options: StartOptions = {}): Promise<DispatcherProcess> {
  for (let start = 1; ; start++) {
    try {
      return await startOnce(env, options)
    } catch (err) {
      if (start >= STARTS_ON_PORT_RACE || !(err instanceof Error) || !err.message.includes('EADDRINUSE')) throw err
    }
  }
}

async function startOnce (env: Record<string, string>, { waitReady = true, cgroupProcs }: StartOptions): Promise<DispatcherProcess> {
  const { brokers, registryUrl } = await testStack()
  const [port, adminPort] = [await freePort(), await freePort()]
  let output = ''
  // `cgroupProcs`: a cgroup's procs file (a bench's memory limit). The
  // process joins it before node starts, so V8 sizes its heap from the
  // limit, as it does in a container.
  const [command, args] = cgroupProcs === undefined
    ? [process.execPath, [mainJs]]
    : ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', cgroupProcs, process.execPath, mainJs]]
  const child = spawn(command, args, {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      TOPIC_REPLICATION_FACTOR: '1',
      COMMIT_INTERVAL_MS: '200',
      // Test receivers listen on loopback over plain HTTP.
      SSRF_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
      ALLOW_HTTP: 'true',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      // A killed instance's partitions open 10 s after they move, not the
      // default 36 s: no test here stalls an owner past its session timeout
      // except those that set HANDOVER_WAIT_MS themselves.
      HANDOVER_WAIT_MS: '10000',
      LOG_LEVEL: 'info',
      ADMIN_PORT: String(adminPort),
      // Each dispatcher gets its own subscriptions topic, seeded from
      // SUBSCRIPTIONS_FILE; pass SUBSCRIPTIONS_TOPIC to share one.
      SUBSCRIPTIONS_TOPIC: uniqueTopic('test-subscriptions'),
      SECRETS_ENCRYPTION_KEYS: testSecretsKeys,
      // Each dispatcher indexes into a file of its own unless a test shares
      // one (a restart); few partitions, since every group gets its own topic.
      HISTORY_SQLITE_PATH: join(tmpdir(), 'whd-test-history', `${randomUUID()}.sqlite`),
      HISTORY_TOPIC_PARTITIONS: '2',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const proc: DispatcherProcess = {
    child,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    output: () => output,
    exited,
    kill: (signal = 'SIGTERM') => { child.kill(signal) }
  }
  if (waitReady) {
    // A process that dies during start-up fails the wait at once, with its output.
    const died = exited.then((code) => { throw new Error(`dispatcher exited with ${code} before it was ready:\n${output.slice(-3000)}`) })
    await Promise.race([
      died,
      waitUntil('dispatcher ready', async () => {
        // Started: joined the group once (/readyz is up before that, for the admin API).
        const res = await fetch(`http://127.0.0.1:${port}/startupz`).catch(() => undefined)
        return res?.status === 200
      }, { timeoutMs: 60_000, intervalMs: 200 })
    ])
    died.catch(() => undefined)
  }
  return proc
}

/** Reads one metric's samples from the Prometheus text format. */
export async function readMetric (metricsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text()
  let total = 0
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}
