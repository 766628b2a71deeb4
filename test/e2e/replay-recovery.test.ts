// A replay job across kill -9 (DESIGN §11, C1/C4 for replays): the job's
// state is on its compacted topic, so after a restart it resumes from its
// last checkpoint — 0 events skipped, first receipts in order per account,
// duplicates at most one chunk. And a range reaching before what retention
// has left is refused with the earliest time available.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { CHUNK } from '../../services/dispatcher/src/replay/runner.js'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { testKafka } from '../support/kafka.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import { scaled, waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

interface ReplayView { id: string, state: string, progress: { records: number, scanned: number, matched: number, delivered: number, failed: number } }

describe('replay recovery', () => {
  const secret = generateSecret()
  let scenario: AdminScenario
  let dispatcher: DispatcherProcess
  let receiver: TestReceiver
  let env: Record<string, string>
  let produced: ProducedEvent[]
  let start: number

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 2 })
    receiver = await startTestReceiver(secret)
    env = {
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub-r', tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'], secrets: [secret] }]),
      ADMIN_REQUESTS_PER_SECOND: '1000',
      ADMIN_REQUEST_BURST: '1000'
    }
    dispatcher = await scenario.start(env)
    start = Date.now()
    produced = await scenario.feed.publishTransactions(scenario.source, { count: 600, accounts: 12 })
    await waitUntil('live deliveries', () => receiver.acceptedIds() === produced.length, { timeoutMs: 120_000 })
  }, scaled(180_000))

  afterAll(async () => {
    await receiver?.close()
    await scenario?.close()
  })

  it('resumes after kill -9 from its checkpoints: 0 skipped, order per account, duplicates within one chunk', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    // Slow enough to be killed part way (live traffic is over).
    expect((await tenant0.request('PATCH', '/v1/endpoints/sub-r', { rateLimitPerSecond: 40 })).status).toBe(200)
    const mark = receiver.received.length
    const res = await tenant0.request<ReplayView>('POST', '/v1/endpoints/sub-r/replay', { since: start - 1000, until: Date.now() })
    expect(res.status).toBe(201)
    const id = res.body.id
    // At least one chunk checkpointed, the job not done.
    await waitUntil('a checkpoint', async () => {
      const view = (await tenant0.request<ReplayView>('GET', `/v1/replays/${id}`)).body
      return view.progress.delivered >= CHUNK && view.progress.delivered < produced.length - 100
    }, { timeoutMs: 60_000, intervalMs: 50 })
    dispatcher.kill('SIGKILL')
    await dispatcher.exited
    const beforeKill = receiver.received.length - mark
    expect(beforeKill).toBeLessThan(produced.length)

    dispatcher = await scenario.start(env)
    const again = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const done = await waitUntil('the job resumed and finished', async () => {
      const view = (await again.request<ReplayView>('GET', `/v1/replays/${id}`)).body
      return view.state !== 'running' ? view : undefined
    }, { timeoutMs: 120_000, intervalMs: 300 })
    expect(done.state).toBe('completed')
    expect(done.progress).toMatchObject({ records: produced.length, scanned: produced.length, matched: produced.length, delivered: produced.length, failed: 0 })
    expect(dispatcher.output()).toContain('replay resuming from its checkpoints')

    const report = checkDeliveries(produced, [{ id: 'sub-r', tenantId: TENANT_0, matches: () => true, accepted: receiver.received.slice(mark).filter((r) => r.status === 204) }])
    expect([report.missing, report.unexpected, report.orderViolations]).toEqual([[], [], []])
    // Only the chunk in progress at the kill is delivered twice.
    expect(report.duplicates).toBeLessThanOrEqual(CHUNK)
  }, scaled(300_000))

  it('refuses a range that starts before the oldest retained record, naming the earliest time available', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    // What retention does, at once: partition 0 now starts at offset 50.
    const admin = (await testKafka('test-replay-retention')).admin()
    await admin.connect()
    try {
      await admin.fetchTopicMetadata({ topics: [scenario.source] })
      await admin.deleteTopicRecords({ topic: scenario.source, partitions: [{ partition: 0, offset: '50' }] })
    } finally {
      await admin.disconnect()
    }
    const res = await tenant0.request('POST', '/v1/endpoints/sub-r/replay', { since: start - 1000, until: Date.now() })
    expect([res.status, res.body?.error?.code, res.body?.error?.field]).toEqual([400, 'WHD_ERR_REPLAY_RETENTION', 'since'])
    const earliest = /earliest time available is (\S+)$/.exec(res.body?.error?.message ?? '')?.[1]
    expect(Date.parse(earliest ?? '')).toBeGreaterThanOrEqual(start - 1000)
    // From that time on, it is accepted.
    const ok = await tenant0.request<ReplayView>('POST', '/v1/endpoints/sub-r/replay', { since: earliest, until: Date.now() })
    expect(ok.status).toBe(201)
    expect((await tenant0.request<ReplayView>('DELETE', `/v1/replays/${ok.body.id}`)).status).toBe(200)
  }, scaled(60_000))
})
