// A replay range longer than one fetch (DESIGN §11). The runner reads with
// 256 KiB per partition per fetch; a job whose partition holds more than
// that must read on past its first batch. (It once stalled there: kafkajs
// fetches from the last resolved offset, and the runner resolved none.)
// And a replay keeps to its endpoint's rate limit together with live
// traffic: one bucket per endpoint, not one per path. And finished jobs
// leave the jobs topic after REPLAY_KEEP_FINISHED_DAYS.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { encodeReplayJob, type ReplayJob } from '../../services/dispatcher/src/engine/replay-job.js'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { testKafka } from '../support/kafka.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import { scaled, waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

interface ReplayView { id: string, state: string, progress: { records: number, scanned: number, matched: number, delivered: number, failed: number } }

/** Several fetches' worth on one partition: ~200 bytes a record against 256 KiB a fetch. */
const EVENTS = 4000

describe('replay of a long range', () => {
  const secret = generateSecret()
  let scenario: AdminScenario
  let dispatcher: DispatcherProcess
  let receiver: TestReceiver
  let produced: ProducedEvent[]
  let start: number

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 1 })
    receiver = await startTestReceiver(secret)
    dispatcher = await scenario.start({
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub-long', tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'], secrets: [secret] }]),
      REPLAY_MAX_IN_FLIGHT: '16'
    })
    start = Date.now()
    produced = await scenario.feed.publishTransactions(scenario.source, { count: EVENTS, accounts: 40, batchSize: 500 })
    await waitUntil('live deliveries', () => receiver.acceptedIds() === produced.length, { timeoutMs: 120_000 })
  }, scaled(180_000))

  afterAll(async () => {
    await receiver?.close()
    await scenario?.close()
  })

  it('reads past its first fetch to the end of the range: every event once more, in order per account', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const mark = receiver.received.length
    const res = await tenant0.request<ReplayView>('POST', '/v1/endpoints/sub-long/replay', { since: start - 1000, until: Date.now() })
    expect(res.status).toBe(201)
    const done = await waitUntil('the replay finished', async () => {
      const view = (await tenant0.request<ReplayView>('GET', `/v1/replays/${res.body.id}`)).body
      return view.state !== 'running' ? view : undefined
    }, { timeoutMs: 120_000, intervalMs: 300 })
    expect(done.state).toBe('completed')
    expect(done.progress).toMatchObject({ records: EVENTS, scanned: EVENTS, matched: EVENTS, delivered: EVENTS, failed: 0 })
    const report = checkDeliveries(produced, [{ id: 'sub-long', tenantId: TENANT_0, matches: () => true, accepted: receiver.received.slice(mark).filter((r) => r.status === 204) }])
    expect([report.missing, report.unexpected, report.orderViolations, report.duplicates]).toEqual([[], [], [], 0])
  }, scaled(240_000))

  it('keeps a replay and live traffic to one endpoint within its one rate limit', async () => {
    const rate = 10
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    expect((await tenant0.request('PATCH', '/v1/endpoints/sub-long', { rateLimitPerSecond: rate })).status).toBe(200)
    const since = Date.now() - 1
    const first = await scenario.feed.publishTransactions(scenario.source, { count: 40, accounts: 40 })
    await waitUntil('the first 40 delivered live', () => first.every((e) => receiver.received.some((r) => r.webhookId === e.eventId && r.status === 204)), { timeoutMs: 60_000 })
    const until = Date.now()
    const mark = receiver.received.length
    // Live and replay at once: 40 new live events, and the replay of the first 40.
    const [second, started] = await Promise.all([
      scenario.feed.publishTransactions(scenario.source, { count: 40, accounts: 40 }),
      tenant0.request<ReplayView>('POST', '/v1/endpoints/sub-long/replay', { since, until })
    ])
    expect(started.status).toBe(201)
    await waitUntil('live and replay delivered', () => receiver.received.length - mark >= first.length + second.length, { timeoutMs: 120_000 })
    const times = receiver.received.slice(mark).map((r) => r.receivedAt).sort((a, b) => a - b)
    // A token bucket lets through its burst (one second's worth), then the
    // rate: all of them take at least (count − burst) / rate seconds. Two
    // buckets would take half that. The slack is for arrival jitter at
    // either end of the run (half a second's worth).
    const seconds = ((times.at(-1) as number) - (times[0] as number)) / 1000
    expect(times.length).toBeLessThanOrEqual(rate + rate * seconds + rate / 2)
  }, scaled(240_000))

  it('deletes a finished job from the jobs topic once it ended more than REPLAY_KEEP_FINISHED_DAYS (30) ago, and keeps newer ones', async () => {
    const tenant0 = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const day = 86_400_000
    const finishedJob = (id: string, finishedAt: number): ReplayJob => ({
      id, tenantId: TENANT_0, endpointId: 'sub-long', since: finishedAt - 2 * day, until: finishedAt - day, onlyFailed: false, state: 'completed', requestedBy: TENANT_0,
      createdAt: finishedAt - 1000, updatedAt: finishedAt, finishedAt, ranges: [], counts: { scanned: 0, matched: 0, delivered: 0, failed: 0 }
    })
    const old = finishedJob(`rpl_${randomUUID()}`, Date.now() - 31 * day)
    const recent = finishedJob(`rpl_${randomUUID()}`, Date.now() - 29 * day)
    const producer = (await testKafka('test-replay-jobs')).producer()
    await producer.connect()
    try {
      await producer.send({ topic: `webhooks.replays.${scenario.group}`, acks: -1, messages: [old, recent].map((job) => ({ key: job.id, value: encodeReplayJob(job), partition: 0 })) })
    } finally {
      await producer.disconnect()
    }
    // Written in one request, old first: a reader that sees the recent job has read the old one (or its tombstone).
    await waitUntil('the jobs written', async () => (await tenant0.request('GET', `/v1/replays/${recent.id}`)).status === 200, { timeoutMs: 60_000, intervalMs: 300 })
    await waitUntil('the old job deleted', async () => (await tenant0.request('GET', `/v1/replays/${old.id}`)).status === 404, { timeoutMs: 60_000, intervalMs: 300 })
    expect((await tenant0.request('GET', `/v1/replays/${recent.id}`)).status).toBe(200)
    const listed = (await tenant0.request<{ items: ReplayView[] }>('GET', '/v1/endpoints/sub-long/replays')).body.items
    expect(listed.map((j) => j.id)).toContain(recent.id)
    expect(listed.map((j) => j.id)).not.toContain(old.id)
  }, scaled(120_000))
})
