import type { Consumer } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { createCoPartitionAssigner } from '../../services/dispatcher/src/kafka/assigner.js'
import { readMetric, type DispatcherProcess } from '../support/dispatcher-process.js'
import { testKafka } from '../support/kafka.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'

const baseUrl = (dispatcher: DispatcherProcess): string => dispatcher.metricsUrl.replace(/\/metrics$/, '')

/** The status of GET `path`, or undefined while nothing listens. */
async function statusOf (dispatcher: DispatcherProcess, path: string): Promise<number | undefined> {
  const res = await fetch(`${baseUrl(dispatcher)}${path}`).catch(() => undefined)
  if (res === undefined) return undefined
  await res.arrayBuffer()
  return res.status
}

describe('dispatcher health, readiness and metrics', () => {
  let scenario: Scenario | undefined
  let blocker: Consumer | undefined
  let release: () => void = () => undefined
  afterEach(async () => {
    release()
    await blocker?.disconnect()
    await scenario?.close()
    blocker = undefined
    scenario = undefined
  })

  it('/startupz answers 503 until the member first joins the group; /readyz answers 200 meanwhile and through a later rebalance; /healthz 200 throughout', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 2 })
    const s = scenario
    // Another member of the group, stuck in its handler, does not rejoin, so
    // the coordinator holds the dispatcher's JoinGroup until it is released:
    // a window in which the dispatcher is up but not in the group, for as
    // long as the test needs.
    const kafka = await testKafka('test-group-blocker')
    // topics: the co-partition assigner gives a member only the partitions
    // of the topics it subscribes to all of (a source and its retry topic).
    const holdGroup = async (topics: string[]): Promise<{ consumer: Consumer, release: () => void }> => {
      const consumer = kafka.consumer({
        groupId: s.group,
        partitionAssigners: [createCoPartitionAssigner()],
        sessionTimeout: 45_000,
        rebalanceTimeout: 60_000
      })
      let free: () => void = () => undefined
      const released = new Promise<void>((resolve) => { free = resolve })
      let holding = false
      await consumer.connect()
      await consumer.subscribe({ topics, fromBeginning: true })
      await consumer.run({ eachMessage: async () => { holding = true; await released } })
      // Records until one reaches the member's partition (another member
      // may take and commit the first ones before the assignment settles).
      await waitUntil('the blocking member holds a record', async () => {
        if (!holding) await s.feed.publishTransactions(s.source, { count: 4, accounts: 4 })
        return holding
      }, { timeoutMs: 30_000, intervalMs: 500 })
      return { consumer, release: free }
    }
    const readyz = async (dispatcher: DispatcherProcess): Promise<{ status: number, group: string }> => {
      const res = await fetch(`${baseUrl(dispatcher)}/readyz`)
      return { status: res.status, group: ((await res.json()) as { group: string }).group }
    }
    const first = await holdGroup([s.source])
    blocker = first.consumer
    release = first.release

    const admin = kafka.admin()
    await admin.connect()
    const groupState = async (): Promise<string | undefined> => (await admin.describeGroups([s.group])).groups[0]?.state
    try {
      const dispatcher = await s.start({}, { waitReady: false })
      const firstStartupz = await waitUntil('the health server answers', () => statusOf(dispatcher, '/startupz'), { timeoutMs: 30_000, intervalMs: 20 })
      expect(firstStartupz).toBe(503)
      // The dispatcher has sent its JoinGroup and waits for the rebalance.
      await waitUntil('the group rebalancing with the dispatcher waiting to join', async () => (await groupState()) === 'PreparingRebalance', { timeoutMs: 30_000 })
      expect(await statusOf(dispatcher, '/startupz')).toBe(503)
      // Not in the group yet, but the admin API serves: ready.
      expect(await readyz(dispatcher)).toEqual({ status: 200, group: 'joining' })
      expect((await fetch(`${dispatcher.adminUrl}/v1/endpoints`)).status).toBe(401)
      expect(await statusOf(dispatcher, '/healthz')).toBe(200)
      expect(dispatcher.child.exitCode).toBeNull()

      release()
      await blocker.disconnect()
      blocker = undefined
      await waitUntil('/startupz 200 after joining', async () => (await statusOf(dispatcher, '/startupz')) === 200, { timeoutMs: 30_000, intervalMs: 50 })
      expect(dispatcher.output()).toContain('joined consumer group')
      expect(await readyz(dispatcher)).toEqual({ status: 200, group: 'member' })

      // A later rebalance, held open by a new member stuck in its handler
      // and a third member joining: the dispatcher leaves the group until
      // the rebalance ends, and stays ready.
      const second = await holdGroup([s.source, s.retry])
      blocker = second.consumer
      release = second.release
      const third = kafka.consumer({ groupId: s.group, partitionAssigners: [createCoPartitionAssigner()], sessionTimeout: 45_000, rebalanceTimeout: 60_000 })
      try {
        await third.connect()
        await third.subscribe({ topics: [s.source, s.retry], fromBeginning: true })
        // run() resolves once the member has joined, i.e. after the held
        // rebalance: watch while it is under way.
        const joining = third.run({ eachMessage: async () => undefined })
        joining.catch(() => undefined)
        const during = await waitUntil('the dispatcher out of the group in a held rebalance', async () => {
          if ((await groupState()) !== 'PreparingRebalance') return undefined
          const seen = await readyz(dispatcher)
          return seen.group === 'rebalancing' ? seen : undefined
        }, { timeoutMs: 30_000, intervalMs: 50 })
        expect(during).toEqual({ status: 200, group: 'rebalancing' })
        expect(await statusOf(dispatcher, '/startupz')).toBe(200)
        release()
        await blocker.disconnect()
        blocker = undefined
        await joining
        await waitUntil('the dispatcher back in the group', async () => (await readyz(dispatcher)).group === 'member', { timeoutMs: 30_000, intervalMs: 50 })
      } finally {
        await third.disconnect()
      }
      const healthz = await fetch(`${baseUrl(dispatcher)}/healthz`)
      expect(await healthz.json()).toEqual({ status: 'ok' })
    } finally {
      await admin.disconnect()
    }
  }, 180_000)

  it('serves Prometheus text on /metrics; on SIGTERM /readyz turns 503 at once while deliveries drain, then exits 0 with them delivered', async () => {
    let delayMs = 0
    const arrived = new Set<string>()
    scenario = await createScenario([{
      id: 'sub',
      tenantId: 'tenant-000',
      eventTypes: ['*'],
      behaviour: ({ webhookId }) => {
        arrived.add(webhookId)
        return { status: 204, delayMs }
      }
    }], { partitions: 2 })
    const s = scenario
    const receiver = s.receivers.get('sub')
    const dispatcher = await s.start()
    expect(await statusOf(dispatcher, '/readyz')).toBe(200)
    expect(await statusOf(dispatcher, '/healthz')).toBe(200)

    const warmUp = await s.feed.publishTransactions(s.source, { count: 10, accounts: 5 })
    await waitUntil('warm-up delivered', () => s.check(warmUp).missing.length === 0, { timeoutMs: 30_000 })
    const res = await fetch(dispatcher.metricsUrl)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    expect(text).toContain('# TYPE webhooks_deliveries_total counter')
    expect(await readMetric(dispatcher.metricsUrl, 'webhooks_deliveries_total')).toBe(10)

    // Slow answers: every delivery of the next batch is in flight for ~2 s,
    // so the drain after SIGTERM takes that long. All 12 at once: the
    // endpoint's cap (ENDPOINT_MAX_IN_FLIGHT) and its own pool allow 64.
    delayMs = 2000
    const slow = await s.feed.publishTransactions(s.source, { count: 12, accounts: 12 })
    await waitUntil('the slow batch in flight', () => slow.every((e) => arrived.has(e.eventId)), { timeoutMs: 30_000, intervalMs: 20 })
    expect(receiver?.accepted().length).toBe(10)

    dispatcher.kill('SIGTERM')
    const notReadyAt = await waitUntil('/readyz 503 while the process drains', async () => {
      return (await statusOf(dispatcher, '/readyz')) === 503 ? Date.now() : undefined
    }, { timeoutMs: 1500, intervalMs: 20 })
    expect(dispatcher.child.exitCode).toBeNull()
    expect(await statusOf(dispatcher, '/healthz')).toBe(200)

    expect(await dispatcher.exited).toBe(0)
    const report = s.check([...warmUp, ...slow])
    expect(report.missing).toEqual([])
    expect(report.duplicates).toBe(0)
    // The slow batch was answered after readiness went false: draining came
    // after it, not before.
    const slowIds = new Set(slow.map((e) => e.eventId))
    const slowAnswers = (receiver?.accepted() ?? []).filter((r) => slowIds.has(r.webhookId))
    expect(slowAnswers).toHaveLength(12)
    for (const answer of slowAnswers) expect(answer.receivedAt).toBeGreaterThan(notReadyAt)
  }, 120_000)

  it('exits with code 78 naming the variable when the configuration is invalid', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 1 })
    const dispatcher = await scenario.start({ MAX_IN_FLIGHT: 'abc' }, { waitReady: false })
    let stderr = ''
    dispatcher.child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    expect(await dispatcher.exited).toBe(78)
    expect(stderr).toContain('MAX_IN_FLIGHT')
    expect(stderr).toContain('abc')
    // The stable code, on the plain line and on a JSON line like every other log line.
    expect(stderr).toMatch(/^webhook-dispatcher: invalid configuration \[WHD_ERR_CONFIG\]: MAX_IN_FLIGHT: /m)
    const json = dispatcher.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(json).toContainEqual(expect.objectContaining({ level: 60, msg: 'invalid configuration', code: 'WHD_ERR_CONFIG', variable: 'MAX_IN_FLIGHT' }))
    expect(await statusOf(dispatcher, '/healthz')).toBeUndefined()
  }, 60_000)
})
