// The admin API against its own OpenAPI document: schemathesis (from PyPI,
// pinned in deploy/local/python-tools.sh) generates requests from the served
// /openapi.json, valid and invalid, and checks every answer: no 5xx, only
// documented statuses, headers and content types, bodies that conform to the
// response schemas, schema-valid requests accepted and schema-violating ones
// refused. Once with a tenant token, once with an operator token. A seed and
// an example count keep the run reproducible and bounded.
//
// Nothing leaves the machine. POST /v1/endpoints/{id}/test is left out: it
// sends a webhook, and a generated endpoint URL may name any host. Creating
// or changing an endpoint resolves no host name (the SSRF rules judge the
// dialled address at delivery), and no event is published, so nothing is
// delivered. Existing endpoints point at 127.0.0.1:9 (admin-api-fuzz.toml).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, createAdminScenario, TENANT_1, type AdminScenario } from '../support/admin-client.js'
import type { DispatcherProcess } from '../support/dispatcher-process.js'
import { scaled } from '../support/wait.js'

const root = join(import.meta.dirname, '../..')
/** `SCHEMATHESIS` overrides the venv's CLI (e.g. another venv while trying a version). */
const schemathesis = process.env.SCHEMATHESIS ?? join(root, '.tools/py/bin/schemathesis')
const config = join(import.meta.dirname, 'admin-api-fuzz.toml')

interface Run {
  code: number | null
  output: string
}

/** The committed configuration, with the ids of existing endpoints as the dictionary "endpoint-ids". */
async function configWith (dir: string, endpointIds: readonly string[]): Promise<string> {
  const path = join(dir, 'schemathesis.toml')
  await writeFile(path, `${await readFile(config, 'utf8')}\n[dictionaries.endpoint-ids]\nvalues = ${JSON.stringify(endpointIds)}\n`)
  return path
}

async function runSchemathesis (baseUrl: string, token: string, endpointIds: readonly string[], reportPath: string): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'whd-fuzz-'))
  try {
    return await run(dir, [
      '--config-file', await configWith(dir, endpointIds),
      'run', `${baseUrl}/openapi.json`,
      '--url', baseUrl,
      '--header', `Authorization: Bearer ${token}`,
      '--checks', 'all',
      '--exclude-operation-id', 'sendTestEvent',
      '--max-examples', '20',
      '--seed', '20261204',
      '--request-timeout', '5',
      '--workers', '1',
      '--generation-database', 'none',
      '--no-color',
      '--report', 'junit', '--report-junit-path', reportPath
    ])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function run (cwd: string, args: string[]): Promise<Run> {
  // A bound of its own, so a run that hangs is killed rather than left behind (exit code null).
  const child = spawn(schemathesis, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: scaled(50_000), env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, output }
}

/** The run's failures (if any), warnings and summary, each line cut at 400 characters (a generated query string can be huge). */
function summary (output: string): string {
  const banners = ['FAILURES', 'WARNINGS', 'SUMMARY'].map((banner) => output.indexOf(` ${banner} ===`)).filter((i) => i >= 0)
  const start = banners.length === 0 ? 0 : output.lastIndexOf('\n', Math.min(...banners)) + 1
  return output.slice(start).split('\n').map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line)).join('\n')
}

describe('admin API fuzzing against its OpenAPI document (schemathesis)', () => {
  let scenario: AdminScenario | undefined
  let dispatcher: DispatcherProcess

  beforeAll(async () => {
    if (!existsSync(schemathesis)) throw new Error(`no ${schemathesis}: run deploy/local/python-tools.sh (make test does)`)
    scenario = await createAdminScenario({ partitions: 1 })
    // Quotas off: schemathesis sends hundreds of schema-valid requests a
    // second, and a 429 or a quota 409 on a valid request reads as a
    // mismatch (the quotas have their own tests).
    dispatcher = await scenario.start({ ADMIN_REQUESTS_PER_SECOND: '10000', ADMIN_REQUEST_BURST: '1000000', ADMIN_MAX_ENDPOINTS_PER_TENANT: '100000' })
  })
  afterAll(async () => {
    await scenario?.close()
  })

  for (const token of ['tenant0', 'operator'] as const) {
    it(`finds no mismatch between the server and the document with ${token === 'operator' ? 'an operator' : 'a tenant'} token`, async () => {
      const s = scenario as AdminScenario
      const api = adminClient(dispatcher.adminUrl, s.tokens[token])
      const ids: string[] = []
      for (const description of ['fuzz a', 'fuzz b']) {
        const { endpoint } = await api.createEndpoint({ url: 'http://127.0.0.1:9/hooks', eventTypes: ['transaction.*'], description, ...(token === 'operator' ? { tenantId: TENANT_1 } : {}) })
        ids.push(endpoint.id)
      }
      const result = await runSchemathesis(dispatcher.adminUrl, s.tokens[token], ids, join(root, '.run', `schemathesis-${token}.xml`))
      // Its full summary only on failure: it closes with a pytest-style
      // banner ("== 2 warnings in 30s ==") that a CI log reader can take
      // for a test run's last word. On success one line of its counts.
      if (result.code !== 0) process.stdout.write(`schemathesis (${token} token), exit ${String(result.code)}:\n${summary(result.output)}\n`)
      else process.stdout.write(`schemathesis (${token} token): ${/\d+ generated, [^\n]*/.exec(result.output)?.[0] ?? 'no counts printed'}\n`)
      expect(result.code, 'schemathesis found failures (or was killed): see its summary above').toBe(0)
      expect(result.output, 'schemathesis tested nothing').toMatch(/[1-9]\d* passed/)
    }, 60_000)
  }
})
