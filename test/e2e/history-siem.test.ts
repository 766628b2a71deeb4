// A bank points its SIEM at the attempts topic: another Kafka client
// (librdkafka) and another Avro implementation (fastavro), with the schema
// fetched from the registry by the id in each record, read exactly the
// history the admin API answers from.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { writeSubscriptionsFile } from '../support/dispatcher-process.js'
import { testKafka } from '../support/kafka.js'
import { repoRoot } from '../support/log-segments.js'
import { testStack } from '../support/stack.js'
import { scaled, waitUntil } from '../support/wait.js'
import { allAttempts, type AttemptView as Attempt } from '../support/history-client.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

async function readWithPython (topic: string, expected: number): Promise<Array<Record<string, unknown>>> {
  const { brokers, registryUrl } = await testStack()
  const child = spawn(join(repoRoot(), '.tools/py/bin/python'), [join(repoRoot(), 'test/support/python/attempts_reader.py'), brokers.join(','), registryUrl, topic, String(expected)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`attempts_reader.py exited ${code}: ${stderr}`)
  return stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('the attempts topic for a SIEM', () => {
  let scenario: AdminScenario | undefined
  let receiver: TestReceiver | undefined
  afterAll(async () => {
    await receiver?.close()
    await scenario?.close()
  })

  it('reads with librdkafka and fastavro exactly the records the history index holds', async () => {
    scenario = await createAdminScenario()
    const secret = generateSecret()
    // Every third event fails its first attempt: attempts, parks and deliveries from both lanes.
    let n = 0
    receiver = await startTestReceiver(secret, ({ attempt }) => ({ status: attempt === 1 && n++ % 3 === 0 ? 503 : 204 }))
    const dispatcher = await scenario.start({
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub-siem', tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'], secrets: [secret] }]),
      RETRY_SCHEDULE_MS: '200',
      ADMIN_REQUESTS_PER_SECOND: '1000',
      ADMIN_REQUEST_BURST: '1000'
    })
    const produced = await scenario.feed.publishTransactions(scenario.source, { count: 150, accounts: 15, tenants: 1 })
    const done = receiver
    await waitUntil('every event delivered', () => done.acceptedIds() === produced.length, { timeoutMs: 60_000 })
    const client = adminClient(dispatcher.adminUrl, scenario.tokens.tenant0)
    const indexed = async (): Promise<Attempt[]> => await allAttempts(client, 'sub-siem')
    await waitUntil('every attempt indexed', async () => (await indexed()).filter((r) => r.kind === 'attempt').length === done.received.length, { timeoutMs: 30_000 })
    const topic = `webhooks.attempts.${scenario.group}`
    const admin = (await testKafka('siem-offsets')).admin()
    await admin.connect()
    const total = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
    await admin.disconnect()

    const read = await readWithPython(topic, total)
    const fromIndex = await indexed()
    expect(read.length).toBe(total)
    expect(read.map((r) => r.attemptId).sort()).toEqual(fromIndex.map((r) => r.attemptId).sort())
    const failed = read.filter((r) => r.outcome === 'failed')
    expect(failed.length).toBe(done.received.length - produced.length)
    for (const record of read) {
      // Keyed by event id; the source coordinates point at the event itself.
      expect(record.key).toBe(record.eventId)
      expect(record.sourceTopic).toBe(scenario.source)
      expect(typeof record.sourceOffset).toBe('number')
      expect(record.tenantId).toBe(TENANT_0)
    }
    expect(new Set(read.filter((r) => r.outcome === 'delivered').map((r) => r.eventId))).toEqual(new Set(produced.map((e) => e.eventId)))
  }, scaled(180_000))
})
