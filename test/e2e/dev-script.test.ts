import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort } from '../support/free-port.js'
import { testStack } from '../support/stack.js'
import { waitUntil } from '../support/wait.js'

const devScript = join(import.meta.dirname, '../../deploy/local/dev.sh')

// Issue 12: Ctrl-C ends `make dev` cleanly (exit 0, so make reports no
// "Error 130"), and its processes print no TimeoutNegativeWarning.
describe('deploy/local/dev.sh', () => {
  it('delivers signed webhooks, and on Ctrl-C (SIGINT to its process group) stops all three and exits 0', async () => {
    const { brokers, registryUrl } = await testStack()
    let output = ''
    const child = spawn('bash', [devScript], {
      // Its own process group, as a terminal's foreground job: Ctrl-C signals every process in it.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers.join(','),
        SCHEMA_REGISTRY_URL: registryUrl,
        DEMO_RECEIVER_PORT: String(await freePort()),
        HTTP_PORT: String(await freePort()),
        ADMIN_PORT: String(await freePort()),
        KAFKA_GROUP_ID: `dev-test-${randomUUID()}`,
        SUBSCRIPTIONS_TOPIC: `dev-test-subscriptions-${randomUUID()}`,
        DEV_RATE: '50'
      }
    })
    child.stdout.on('data', (c: Buffer) => { output += c.toString() })
    child.stderr.on('data', (c: Buffer) => { output += c.toString() })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      await waitUntil('the demo receiver prints a verified webhook', () => /sig=ok/.test(output), { timeoutMs: 90_000, intervalMs: 250 })
        .catch((err: unknown) => { throw new Error(`${(err as Error).message}; output:\n${output.slice(-4000)}`) })
      // And a sign-in link into the tenant portal for the demo tenant, which works once.
      const link = await waitUntil('a portal link', () => /dev: tenant portal for tenant-001 [^:]*: (http:\/\/\S+\/portal\/sign-in\.html#(whpl\.\S+))/.exec(output) ?? undefined, { timeoutMs: 60_000, intervalMs: 250 })
      const signIn = await fetch(new URL('/v1/portal/sign-in', link[1]), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: link[2] }) })
      expect(signIn.status).toBe(200)
      process.kill(-(child.pid as number), 'SIGINT')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL')
    }
    expect(output).toContain('dev: stopped')
    expect(output).toMatch(/demo-receiver: stopped/)
    expect(output).not.toMatch(/TimeoutNegativeWarning/)
  }, 180_000)
})
