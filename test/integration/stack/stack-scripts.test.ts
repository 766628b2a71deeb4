import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const stackScript = join(import.meta.dirname, '../../../deploy/local/stack.sh')

// A second, private stack on its own ports and run folder, so that stopping it
// does not touch the stack the other tests use. Downloads come from the shared
// cache that `make stack-up` filled.
const env = {
  ...process.env,
  KAFKA_PORT: '29092',
  KAFKA_CONTROLLER_PORT: '29093',
  REGISTRY_PORT: '28081'
}

async function stack (runDir: string, command: string): Promise<string> {
  const { stdout } = await run('bash', [stackScript, command], { env: { ...env, STACK_RUN_DIR: runDir }, timeout: 180_000 })
  return stdout
}

async function pidOf (runDir: string, name: string): Promise<number> {
  return Number((await readFile(join(runDir, `${name}.pid`), 'utf8')).trim())
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('deploy/local/stack.sh', () => {
  let runDir = ''

  afterAll(async () => {
    if (runDir !== '') {
      await stack(runDir, 'down').catch(() => undefined)
      await rm(runDir, { recursive: true, force: true })
    }
  })

  it('up, up, down, down all succeed, and the second up starts no second broker', async () => {
    runDir = await mkdtemp(join(tmpdir(), 'stack-test-'))

    const firstUp = await stack(runDir, 'up')
    expect(firstUp).toContain('kafka healthy')
    expect(firstUp).toContain('registry healthy')
    const kafkaPid = await pidOf(runDir, 'kafka')
    const registryPid = await pidOf(runDir, 'registry')
    const registry = await fetch('http://127.0.0.1:28081/apis/ccompat/v7/subjects')
    expect(registry.status).toBe(200)
    // Global BACKWARD from the start, before any subject has its own rule.
    expect(firstUp).toContain('registry global compatibility')
    const config = await (await fetch('http://127.0.0.1:28081/apis/ccompat/v7/config')).json() as { compatibilityLevel?: string }
    expect(config.compatibilityLevel).toBe('BACKWARD')

    const secondUp = await stack(runDir, 'up')
    expect(secondUp).toContain('kafka already running')
    expect(secondUp).toContain('registry already running')
    expect(await pidOf(runDir, 'kafka')).toBe(kafkaPid)
    expect(await pidOf(runDir, 'registry')).toBe(registryPid)

    await stack(runDir, 'down')
    expect(alive(kafkaPid)).toBe(false)
    expect(alive(registryPid)).toBe(false)

    const secondDown = await stack(runDir, 'down')
    expect(secondDown).toContain('kafka not running')
    expect(secondDown).toContain('registry not running')
  })

  it('treats a stale pid file as not running', async () => {
    const staleDir = await mkdtemp(join(tmpdir(), 'stack-stale-'))
    try {
      // A pid that cannot belong to a live process on Linux (above pid_max).
      await run('bash', ['-c', `echo 99999999 > "${staleDir}/kafka.pid"`])
      const status = await stack(staleDir, 'status')
      expect(status).toContain('kafka stopped')
      const down = await stack(staleDir, 'down')
      expect(down).toContain('removing stale pid file')
    } finally {
      await rm(staleDir, { recursive: true, force: true })
    }
  })
})
