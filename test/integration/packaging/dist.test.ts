// `make dist` (deploy/local/dist.sh) lays out what the container image's /app
// holds. These tests run the dispatcher, the demo receiver and the redrive CLI
// from that folder alone — outside the repository, so nothing resolves from
// its node_modules — which proves the image's contents load every module and
// run against a real Kafka and registry.
import { freePort } from '../../support/free-port.js'
import { execFile, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestTopics, uniqueTopic } from '../../support/kafka.js'
import { testStack } from '../../support/stack.js'
import { waitUntil } from '../../support/wait.js'
import { imageEntries, repoRoot } from './paths.js'

const runFile = promisify(execFile)
const distScript = join(repoRoot, 'deploy/local/dist.sh')
const builtMain = join(repoRoot, 'dist/services/dispatcher/src/main.js')
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }

/** Package folders under node_modules (scoped and nested included), as package-lock.json keys. */
function installedPackages (dir: string, prefix = 'node_modules'): string[] {
  const found: string[] = []
  const base = join(dir, prefix)
  if (!existsSync(base)) return found
  for (const entry of readdirSync(base)) {
    if (entry.startsWith('.')) continue
    const names = entry.startsWith('@') ? readdirSync(join(base, entry)).map((n) => `${entry}/${n}`) : [entry]
    for (const name of names) {
      const key = `${prefix}/${name}`
      if (!existsSync(join(dir, key, 'package.json'))) continue
      found.push(key, ...installedPackages(dir, `${key}/node_modules`))
    }
  }
  return found
}

interface Started {
  exited: Promise<number | null>
  output: () => string
  kill: (signal: NodeJS.Signals) => void
}

/** Starts `node <script>` in `cwd` with exactly `env` (plus PATH). */
function start (cwd: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { exited, output: () => output, kill: (signal) => { child.kill(signal) } }
}

describe('make dist (deploy/local/dist.sh)', () => {
  let base = ''
  let image = ''
  let cache = ''
  let firstRun = ''

  beforeAll(async () => {
    if (!existsSync(builtMain)) throw new Error('dist/ is not built: run make build (tsc -p tsconfig.build.json) first')
    base = await mkdtemp(join(tmpdir(), 'whd-dist-'))
    image = join(base, 'image')
    cache = join(base, 'cache')
    // A fresh cache: this run installs with npm ci, as the image build does.
    const { stderr } = await runFile('bash', [distScript, image], { env: { ...process.env, DIST_CACHE_DIR: cache }, timeout: 240_000 })
    firstRun = stderr
  }, 300_000)

  afterAll(async () => {
    if (base !== '') await rm(base, { recursive: true, force: true })
  })

  it('lays out package.json, node_modules, dist/services and schemas, and nothing else', () => {
    expect(firstRun).toContain('npm ci --omit=dev --ignore-scripts')
    expect(readdirSync(image).sort()).toEqual([...imageEntries])
    expect(readdirSync(join(image, 'dist'))).toEqual(['services'])
    expect(readdirSync(join(image, 'dist/services')).sort()).toEqual(readdirSync(join(repoRoot, 'dist/services')).sort())
    expect(readdirSync(join(image, 'schemas')).sort()).toEqual(readdirSync(join(repoRoot, 'schemas')).sort())
    expect(readFileSync(join(image, 'package.json'), 'utf8')).toBe(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
  })

  it('installs exactly the production dependencies of package-lock.json, no devDependency', () => {
    const installed = installedPackages(image).sort()
    const production = Object.entries(lock.packages).filter(([key, entry]) => key !== '' && entry.dev !== true).map(([key]) => key).sort()
    expect(installed).toEqual(production)
    for (const name of ['vitest', 'typescript', 'eslint', 'testcontainers']) expect(lock.packages[`node_modules/${name}`]?.dev, name).toBe(true)
    for (const name of [...Object.keys(packageJson.devDependencies), 'vite']) {
      const entry = lock.packages[`node_modules/${name}`]
      // Also a production dependency's dependency (@types/node, via protobufjs): it belongs.
      if (entry !== undefined && entry.dev !== true) continue
      expect(existsSync(join(image, 'node_modules', name)), `${name} must not be in the image`).toBe(false)
    }
    expect(existsSync(join(image, 'node_modules/.bin/tsc'))).toBe(false)
  })

  it('takes node_modules from its cache when the lockfile has not changed', async () => {
    const second = join(base, 'second')
    const { stderr } = await runFile('bash', [distScript, second], { env: { ...process.env, DIST_CACHE_DIR: cache }, timeout: 60_000 })
    expect(stderr).toContain('from the cache')
    expect(installedPackages(second).sort()).toEqual(installedPackages(image).sort())
    await rm(second, { recursive: true, force: true })
  })

  it('replaces only an empty folder or its own earlier output', async () => {
    const other = join(base, 'other')
    await mkdir(other)
    await writeFile(join(other, 'keep.txt'), 'not dist.sh output')
    await expect(runFile('bash', [distScript, other], { env: { ...process.env, DIST_CACHE_DIR: cache } })).rejects.toThrow(/refusing to replace/)
    expect(readFileSync(join(other, 'keep.txt'), 'utf8')).toBe('not dist.sh output')
  })

  it('starts the dispatcher from that folder: a bad configuration exits 78 naming the variable', async () => {
    // Static imports load every module before the configuration is read.
    const missing = start(image, ['dist/services/dispatcher/src/main.js'], {})
    expect(await missing.exited).toBe(78)
    expect(missing.output()).toContain('KAFKA_BROKERS')
    const invalid = start(image, ['dist/services/dispatcher/src/main.js'], { KAFKA_BROKERS: '127.0.0.1:1', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1', SECRETS_ENCRYPTION_KEYS: 'k:short' })
    expect(await invalid.exited).toBe(78)
    expect(invalid.output()).toContain('SECRETS_ENCRYPTION_KEYS')
  })

  it('runs the dispatcher from that folder against Kafka: ready, then SIGTERM exits 0', async () => {
    const { brokers, registryUrl } = await testStack()
    const source = uniqueTopic('test-dist')
    const subscriptionsTopic = uniqueTopic('test-dist-subscriptions')
    const { admin, cleanup } = await createTestTopics([{ topic: source, numPartitions: 2 }])
    const [httpPort, adminPort] = [await freePort(), await freePort()]
    const group = `test-dist-${randomUUID()}`
    const dispatcher = start(image, ['dist/services/dispatcher/src/main.js'], {
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
      SOURCE_TOPICS: source,
      KAFKA_GROUP_ID: group,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      SUBSCRIPTIONS_TOPIC: subscriptionsTopic,
      SECRETS_ENCRYPTION_KEYS: `k:${randomBytes(32).toString('base64')}`,
      TOPIC_REPLICATION_FACTOR: '1',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      ADMIN_PORT: String(adminPort)
    })
    try {
      const died = dispatcher.exited.then((code) => { throw new Error(`dispatcher exited with ${code} before it was ready:\n${dispatcher.output().slice(-3000)}`) })
      died.catch(() => undefined)
      await Promise.race([died, waitUntil('the dispatcher run from the dist folder to be ready', async () => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/startupz`).catch(() => undefined)
        return res?.status === 200
      }, { timeoutMs: 60_000, intervalMs: 200 })])
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
      expect(metrics).toContain('webhooks_')
      dispatcher.kill('SIGTERM')
      expect(await dispatcher.exited, dispatcher.output().slice(-3000)).toBe(0)
    } finally {
      dispatcher.kill('SIGKILL')
      await admin.deleteTopics({ topics: [`${source}.retry.${group}`, subscriptionsTopic] }).catch(() => undefined)
      await cleanup()
    }
  }, 120_000)

  it('runs the demo receiver and the redrive CLI from that folder', async () => {
    const receiver = start(image, ['dist/services/demo-receiver/src/main.js'], { PORT: '0', WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}` })
    await waitUntil('the demo receiver to listen', () => receiver.output().includes('listening on'), { timeoutMs: 20_000 })
    receiver.kill('SIGTERM')
    expect(await receiver.exited).toBe(0)
    const redrive = start(image, ['dist/services/dispatcher/src/cli/redrive.js', '--help'], {})
    expect(await redrive.exited, redrive.output()).toBe(0)
    expect(redrive.output()).toContain('--dry-run')
  })
})
