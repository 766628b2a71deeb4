// Shutdown while a replay delivers to an endpoint that never answers: the
// replay's attempts end when its job stops, so SIGTERM still exits 0 within
// SHUTDOWN_DEADLINE_MS + 4 s rather than waiting out DELIVERY_TIMEOUT_MS
// (before, the replays step waited for them and the hard deadline exited 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { startSharedOrigin, type SharedOrigin } from '../support/shared-origin.js'
import { scaled, waitUntil } from '../support/wait.js'

describe('shutdown during a replay to an endpoint that never answers', () => {
  let scenario: AdminScenario
  let origin: SharedOrigin

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 1 })
    origin = await startSharedOrigin()
  })
  afterAll(async () => {
    await origin?.close()
    await scenario?.close()
  })

  it('ends the replay\'s attempts with its job and exits 0', async () => {
    const dispatcher: DispatcherProcess = await scenario.start({
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'ep-hang', tenantId: TENANT_0, url: origin.url('ep-hang'), eventTypes: ['*'], secrets: [generateSecret()] }]),
      DELIVERY_TIMEOUT_MS: '120000',
      ADMIN_REQUEST_TIMEOUT_MS: '120000',
      SHUTDOWN_DEADLINE_MS: '1000'
    })
    const since = Date.now() - 1
    const produced = await scenario.feed.publishTransactions(scenario.source, { count: 10, accounts: 10 })
    await waitUntil('live deliveries', () => origin.answeredIds('/ep-hang') === produced.length, { timeoutMs: 60_000 })
    origin.hold('/ep-hang', true)
    const replay = await adminClient(dispatcher.adminUrl, scenario.tokens.tenant0).request('POST', '/v1/endpoints/ep-hang/replay', { since, until: Date.now() })
    expect(replay.status).toBe(201)
    await waitUntil('replay attempts held by the endpoint', () => (origin.held.get('/ep-hang')?.length ?? 0) > 0, { timeoutMs: 60_000 })
    dispatcher.kill('SIGTERM')
    const code = await dispatcher.exited
    expect(code, dispatcher.output().split('\n').slice(-30).join('\n')).toBe(0)
  }, scaled(120_000))
})
