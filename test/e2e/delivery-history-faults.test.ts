// The delivery history under faults: kill -9 mid-stream (SQLite), and two
// instances sharing one PostgreSQL index.
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { adminClient, createAdminScenario, TENANT_0, type AdminClient, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile } from '../support/dispatcher-process.js'
import { scaled, waitUntil } from '../support/wait.js'
import { allAttempts, type AttemptView as Attempt } from '../support/history-client.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

const delivered = (records: Attempt[]): Set<string> => new Set(records.filter((r) => r.kind === 'attempt' && r.outcome === 'delivered').map((r) => r.eventId))

describe('delivery history under faults', () => {
  const secret = generateSecret()
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => { for (const c of cleanups.reverse()) await c() })

  async function setUp (): Promise<{ scenario: AdminScenario, receiver: TestReceiver, env: Record<string, string> }> {
    const scenario = await createAdminScenario()
    // A little latency keeps attempts in flight when the process dies.
    const receiver = await startTestReceiver(secret, () => ({ status: 204, delayMs: 3 }))
    cleanups.push(async () => { await receiver.close(); await scenario.close() })
    const env = {
      // The test reads whole histories, many pages a poll.
      ADMIN_REQUESTS_PER_SECOND: '1000',
      ADMIN_REQUEST_BURST: '1000',
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub-all', tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'], secrets: [secret] }])
    }
    return { scenario, receiver, env }
  }

  it('after kill -9 mid-stream, every delivery a receiver accepted has its delivered attempt in the index', async () => {
    const { scenario, receiver, env } = await setUp()
    const sqlitePath = join(tmpdir(), 'whd-test-history', `${randomUUID()}.sqlite`)
    cleanups.push(async () => { rmSync(sqlitePath, { force: true }) })
    const withPath = { ...env, HISTORY_SQLITE_PATH: sqlitePath }
    let dispatcher = await scenario.start(withPath)
    const produced = await scenario.feed.publishTransactions(scenario.source, { count: 3000, accounts: 60, tenants: 1 })
    for (const share of [0.25, 0.6]) {
      await waitUntil(`${share * 100} % delivered`, () => receiver.acceptedIds() >= produced.length * share, { timeoutMs: 60_000 })
      dispatcher.kill('SIGKILL')
      await dispatcher.exited
      dispatcher = await scenario.start(withPath)
    }
    await waitUntil('every event delivered', () => receiver.acceptedIds() === produced.length, { timeoutMs: 120_000 })
    const client = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const accepted = new Set(receiver.accepted().map((r) => r.webhookId))
    await waitUntil('every accepted delivery indexed', async () => delivered(await allAttempts(client, 'sub-all')).size === accepted.size, { timeoutMs: 60_000 })
    expect([...delivered(await allAttempts(client, 'sub-all'))].sort()).toEqual([...accepted].sort())
    // Requests the index lacks: attempts made after the last write to the
    // attempts topic before a kill; each was made again after the restart.
    const requests = receiver.received.length
    const attempts = (await allAttempts(client, 'sub-all')).filter((r) => r.kind === 'attempt').length
    console.log(`history after kill -9 ×2: ${requests} requests received, ${attempts} attempts indexed, ${requests - attempts} lost with the killed processes`)
    expect(attempts).toBeLessThanOrEqual(requests)
  }, scaled(360_000))

  it('two instances sharing one PostgreSQL index show one history, the same through either', async () => {
    const serverUrl = process.env.HISTORY_POSTGRES_URL
    if (serverUrl === undefined) throw new Error('HISTORY_POSTGRES_URL is not set: run through make test')
    const database = `whd_e2e_${randomUUID().replaceAll('-', '')}`
    const admin = new pg.Client({ connectionString: serverUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${database}`)
    cleanups.push(async () => { await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`); await admin.end() })
    const url = new URL(serverUrl)
    url.pathname = `/${database}`
    const { scenario, receiver, env } = await setUp()
    const shared = { ...env, HISTORY_STORE: 'postgres', HISTORY_POSTGRES_URL: url.toString() }
    const [a, b] = [await scenario.start(shared), await scenario.start(shared)]
    const produced = await scenario.feed.publishTransactions(scenario.source, { count: 1500, accounts: 40, tenants: 1 })
    await waitUntil('every event delivered', () => receiver.acceptedIds() === produced.length, { timeoutMs: 120_000 })
    const [viaA, viaB] = [a, b].map((d) => adminClient((d as { adminUrl: string }).adminUrl, scenario.tokens.tenant0)) as [AdminClient, AdminClient]
    await waitUntil('every attempt indexed', async () => (await allAttempts(viaA, 'sub-all')).filter((r) => r.kind === 'attempt').length === receiver.received.length, { timeoutMs: 60_000 })
    const ids = (records: Attempt[]): string[] => records.map((r) => r.attemptId).sort()
    const [fromA, fromB] = [await allAttempts(viaA, 'sub-all'), await allAttempts(viaB, 'sub-all')]
    expect(ids(fromA)).toEqual(ids(fromB))
    expect(delivered(fromA).size).toBe(produced.length)
    // Both instances' writers fed it: the partitions were split between them.
    const event = await viaB.request<{ deliveries: Array<{ status: string }> }>('GET', `/v1/events/${produced[0]?.eventId ?? ''}`)
    expect(event.body.deliveries.map((d) => d.status)).toEqual(['delivered'])
  }, scaled(300_000))
})
