import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../support/free-port.js'
import { scaled } from '../../support/wait.js'

const run = promisify(execFile)
const script = join(import.meta.dirname, '../../../deploy/local/postgres.sh')

// A private server on its own port and run folder, so that stopping it does
// not touch the one `make test` started for the history tests.
async function postgres (runDir: string, port: number, command: string): Promise<string> {
  const { stdout } = await run('bash', [script, command], {
    env: { ...process.env, PG_RUN_DIR: runDir, PG_PORT: String(port) },
    timeout: scaled(120_000)
  })
  return stdout
}

function pidIn (output: string): number {
  const match = /\(pid (\d+)\)/.exec(output)
  if (match === null) throw new Error(`no pid in: ${output}`)
  return Number(match[1])
}

async function selectOne (connectionString: string): Promise<unknown> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: scaled(10_000) })
  await client.connect()
  try {
    const result = await client.query<{ one: number }>('select 1 as one')
    return result.rows[0]?.one
  } finally {
    await client.end()
  }
}

describe('deploy/local/postgres.sh', () => {
  let runDir = ''
  let port = 0

  afterAll(async () => {
    if (runDir !== '') {
      await postgres(runDir, port, 'clean').catch(() => undefined)
      await rm(runDir, { recursive: true, force: true })
    }
  })

  it('up, up, down, down all succeed; the second up starts no second server; the URL logs in with a password', async () => {
    runDir = await mkdtemp(join(tmpdir(), 'postgres-test-'))
    port = await freePort()

    await expect(postgres(runDir, port, 'url')).rejects.toThrow(/run .* up first/)

    const firstUp = await postgres(runDir, port, 'up')
    expect(firstUp).toContain('creating a cluster')
    expect(firstUp).toContain(`ready: HISTORY_POSTGRES_URL=postgres://webhooks:***@127.0.0.1:${port}/webhooks`)
    const pid = pidIn(await postgres(runDir, port, 'status'))

    const secondUp = await postgres(runDir, port, 'up')
    expect(secondUp).toContain(`already running (pid ${pid}) on 127.0.0.1:${port}`)
    expect(secondUp).not.toContain('creating a cluster')
    expect(pidIn(await postgres(runDir, port, 'status'))).toBe(pid)

    const url = (await postgres(runDir, port, 'url')).trim()
    const parsed = new URL(url)
    expect(parsed.protocol).toBe('postgres:')
    expect(parsed.username).toBe('webhooks')
    expect(parsed.host).toBe(`127.0.0.1:${port}`)
    expect(parsed.pathname).toBe('/webhooks')
    expect(await selectOne(url)).toBe(1)

    // Loopback TCP asks for the password: a wrong one is refused
    // (28P01, invalid_password).
    parsed.password = 'wrong'
    await expect(selectOne(parsed.toString())).rejects.toMatchObject({ code: '28P01' })

    const down = await postgres(runDir, port, 'down')
    expect(down).toContain(`stopping (pid ${pid})`)
    expect(await postgres(runDir, port, 'status')).toContain('stopped')
    await expect(selectOne(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' })

    expect(await postgres(runDir, port, 'down')).toContain('not running')
  })
})
