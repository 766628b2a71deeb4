// The backlog bench's drain phase: how fast a parked backlog drains once its
// endpoint is back, with every parked item held with its bytes and with most
// held without (RETRY_MAX_PARKED_IN_MEMORY small: read again from the retry
// partition when due). Each run: a fresh dispatcher and topic; the endpoint
// answers 503 until every event is parked and held, then 204.
import { readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { readMetric, startDispatcher, writeSubscriptionsFile } from '../support/dispatcher-process.js'
import { allocatorEnv } from './dispatcher-spawn.js'
import type { EventFeed } from '../support/event-feed.js'
import { createTestTopics } from '../support/kafka.js'
import { checkDeliveries } from '../support/oracle.js'
import { startTestReceiver } from '../support/webhook-receiver.js'
import type { DrainRun } from './backlog-report.js'

export interface DrainSettings {
  events: number
  partitions: number
  accounts: number
  /** RETRY_MAX_PARKED_IN_MEMORY of this run. */
  withBytesPerPartition: number
  budgetMs: number
  runId: string
  round: number
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** User + system CPU seconds of a process so far (/proc/<pid>/stat). */
async function cpuSeconds (pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

export async function drainRun (feed: EventFeed, s: DrainSettings): Promise<DrainRun> {
  const secret = generateSecret()
  const receiver = await startTestReceiver(secret, () => ({ status: 503 }))
  const topic = `bench-backlog-drain-${s.runId}-${s.round}-${s.withBytesPerPartition}`
  await (await createTestTopics([{ topic, numPartitions: s.partitions }])).admin.disconnect()
  const dispatcher = await startDispatcher({
    SOURCE_TOPICS: topic,
    DEAD_LETTER_TOPIC: `bench-backlog-dlq-${s.runId}`,
    KAFKA_GROUP_ID: `bench-backlog-drain-${s.runId}-${randomUUID()}`,
    SUBSCRIPTIONS_TOPIC: `bench-backlog-subs-drain-${s.runId}-${randomUUID()}`,
    SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'ep', tenantId: 'tenant-000', url: receiver.url, eventTypes: ['*'], secrets: [secret] }]),
    RETRY_MAX_PARKED_IN_MEMORY: String(s.withBytesPerPartition),
    // No open circuit holding the endpoint for minutes: its heads are tried
    // every 5 s, so the drain starts within 5 s of the endpoint's return.
    CIRCUIT_FAILURE_THRESHOLD: '10000',
    RETRY_SCHEDULE_MS: '5000',
    COMMIT_INTERVAL_MS: '1000',
    LOG_LEVEL: 'warn',
    ...allocatorEnv()
  })
  try {
    const produced = []
    for (let i = 0; i < s.events; i += 20_000) produced.push(...await feed.publishTransactions(topic, { count: Math.min(20_000, s.events - i), accounts: s.accounts, batchSize: 2000 }))
    const deadline = Date.now() + s.budgetMs
    while (await readMetric(dispatcher.metricsUrl, 'webhooks_parked_backlog') < s.events) {
      if (Date.now() > deadline) throw new Error(`drain run: not every event parked within ${s.budgetMs} ms`)
      await sleep(1000)
    }
    const withoutBytes = await readMetric(dispatcher.metricsUrl, 'webhooks_parked_without_bytes')
    receiver.setBehaviour(() => ({ status: 204 }))
    const pid = dispatcher.child.pid as number
    const [startedAt, cpuBefore] = [Date.now(), await cpuSeconds(pid)]
    while (receiver.acceptedIds() < s.events && Date.now() < deadline) await sleep(200)
    const seconds = (Date.now() - startedAt) / 1000
    const cpu = await cpuSeconds(pid) - cpuBefore
    const report = checkDeliveries(produced, [{ id: 'ep', tenantId: 'tenant-000', matches: () => true, accepted: receiver.accepted() }])
    const delivered = receiver.acceptedIds()
    return {
      round: s.round,
      withBytesPerPartition: s.withBytesPerPartition,
      events: s.events,
      withoutBytes,
      delivered,
      seconds,
      cpuMicrosPerDelivery: delivered > 0 ? cpu / delivered * 1e6 : Number.NaN,
      missing: report.missing.length,
      orderViolations: report.orderViolations.length,
      duplicates: report.duplicates
    }
  } finally {
    dispatcher.kill('SIGTERM')
    await dispatcher.exited
    await receiver.close()
  }
}
