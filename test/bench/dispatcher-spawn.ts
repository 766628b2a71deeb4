// Starts and stops the built dispatcher process for the benchmark: one
// instance per call, on its own HTTP port, with loopback-only egress.
import { randomBytes, randomUUID } from 'node:crypto'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { testStack } from '../support/stack.js'

// Compiled layout: dist/test/bench/ → dist/services/dispatcher/src/main.js.
const mainJs = join(import.meta.dirname, '../../services/dispatcher/src/main.js')

export interface SpawnedDispatcher {
  child: ChildProcess
  port: number
  exited: Promise<number | null>
  /** The tail of its stdout and stderr. */
  output: () => string
}

let nextPort = 29900 + Math.floor(Math.random() * 90)

/** The container image's allocator settings (a packaging test keeps the two equal). */
export const IMAGE_MALLOC_CONF = 'background_thread:true'

// This file runs from test/bench (vitest) or dist/test/bench (node).
const repoRoot = join(import.meta.dirname, existsSync(join(import.meta.dirname, '../../package.json')) ? '../..' : '../../..')
let jemalloc: string | undefined | null = null
/** jemalloc's library (deploy/local/jemalloc.sh installs it), or undefined: glibc's malloc then. */
export function jemallocLibrary (): string | undefined {
  if (jemalloc === null) jemalloc = execFileSync(join(repoRoot, 'deploy/local/jemalloc.sh'), { encoding: 'utf8' }).trim() || undefined
  return jemalloc
}

/** The environment that preloads jemalloc as the image does, when it is installed. */
export function allocatorEnv (): Record<string, string> {
  const library = jemallocLibrary()
  return library === undefined ? {} : { LD_PRELOAD: library, MALLOC_CONF: IMAGE_MALLOC_CONF }
}

/** Starts one instance and resolves once it has joined its consumer group (/startupz). */
export async function spawnDispatcher (env: Record<string, string>, execArgv: string[] = []): Promise<SpawnedDispatcher> {
  const { brokers, registryUrl } = await testStack()
  const port = nextPort++
  let output = ''
  const child = spawn(process.execPath, [...execArgv, mainJs], {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      SSRF_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
      ALLOW_HTTP: 'true',
      ADMIN_PORT: '0',
      SUBSCRIPTIONS_TOPIC: `bench-subscriptions-${randomUUID()}`,
      SECRETS_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      TOPIC_REPLICATION_FACTOR: '1',
      LOG_LEVEL: 'info',
      // As the container image runs it (Dockerfile: jemalloc preloaded).
      ...allocatorEnv(),
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  // Keep only the tail: a long run logs enough to matter.
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-20_000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dispatcher exited with ${child.exitCode ?? child.signalCode} before it was ready:\n${output.slice(-3000)}`)
    }
    // Started: joined the consumer group once.
    const res = await fetch(`http://127.0.0.1:${port}/startupz`).catch(() => undefined)
    await res?.body?.cancel()
    if (res?.status === 200) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`dispatcher not ready within 60 s:\n${output.slice(-3000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return { child, port, exited, output: () => output }
}

/** True once the process has exited or been killed. */
export function hasExited (spawned: SpawnedDispatcher): boolean {
  return spawned.child.exitCode !== null || spawned.child.signalCode !== null
}

/** SIGTERM, then SIGKILL after 30 s; resolves with the exit code (0 = clean shutdown). */
export async function stopDispatcher (spawned: SpawnedDispatcher): Promise<number | null> {
  if (spawned.child.exitCode !== null) return spawned.child.exitCode
  spawned.child.kill('SIGTERM')
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), 30_000)
  try {
    return await spawned.exited
  } finally {
    clearTimeout(timer)
  }
}
