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

  it('/readyz answers 503 until the member has joined the group and 200 once it has; /healthz answers 200 throughout', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 2 })
    const s = scenario
    // Another member of the group, stuck in its handler, does not rejoin, so
    // the coordinator holds the dispatcher's JoinGroup until it is released:
    // a window in which the dispatcher is up but has not joined, for as long
    // as the test needs.
    const kafka = await testKafka('test-group-blocker')
    blocker = kafka.consumer({
      groupId: s.group,
      partitionAssigners: [createCoPartitionAssigner()],
      sessionTimeout: 45_000,
      rebalanceTimeout: 60_000
    })
    const released = new Promise<void>((resolve) => { release = resolve })
    let holding = false
    await blocker.connect()
    await blocker.subscribe({ topics: [s.source], fromBeginning: true })
    await blocker.run({ eachMessage: async () => { holding = true; await released } })
    await s.feed.publishTransactions(s.source, { count: 2, accounts: 2 })
    await waitUntil('the blocking member holds a record', () => holding, { timeoutMs: 30_000 })

    const admin = kafka.admin()
    await admin.connect()
    try {
      const dispatcher = await s.start({}, { waitReady: false })
      const firstReadyz = await waitUntil('the health server answers', () => statusOf(dispatcher, '/readyz'), { timeoutMs: 30_000, intervalMs: 20 })
      expect(firstReadyz).toBe(503)
      // The dispatcher has sent its JoinGroup and waits for the rebalance.
      await waitUntil('the group rebalancing with the dispatcher waiting to join', async () => {
        const { groups: [group] } = await admin.describeGroups([s.group])
        return group?.state === 'PreparingRebalance'
      }, { timeoutMs: 30_000 })
      expect(await statusOf(dispatcher, '/readyz')).toBe(503)
      expect(await statusOf(dispatcher, '/healthz')).toBe(200)
      expect(dispatcher.child.exitCode).toBeNull()

      release()
      await blocker.disconnect()
      blocker = undefined
      await waitUntil('/readyz 200 after joining', async () => (await statusOf(dispatcher, '/readyz')) === 200, { timeoutMs: 30_000, intervalMs: 50 })
      expect(dispatcher.output()).toContain('joined consumer group')
      expect(await statusOf(dispatcher, '/healthz')).toBe(200)
      const healthz = await fetch(`${baseUrl(dispatcher)}/healthz`)
      expect(await healthz.json()).toEqual({ status: 'ok' })
    } finally {
      await admin.disconnect()
    }
  }, 120_000)

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
    // so the drain after SIGTERM takes that long. At most 16 at once: the
    // HTTP pool keeps 16 connections per origin.
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
