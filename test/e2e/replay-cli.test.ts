// The replay CLI (`make replay`) end to end: an operator without the admin
// API starts a replay on the jobs topic, the running dispatcher does it, the
// command follows it with a progress line and exits 0 when it completed;
// a refusal exits 3 naming its code; list, status and cancel answer.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import { readMetric, writeSubscriptionsFile } from '../support/dispatcher-process.js'
import { testStack } from '../support/stack.js'
import { scaled, waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

const replayJs = join(import.meta.dirname, '../../dist/services/dispatcher/src/cli/replay.js')

describe('replay CLI', () => {
  const secret = generateSecret()
  let scenario: AdminScenario
  let receiver: TestReceiver
  let start: number
  let count: number

  const runCli = async (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => {
    const { brokers } = await testStack()
    const child = spawn(process.execPath, [replayJs, ...args], {
      env: { ...process.env, KAFKA_BROKERS: brokers.join(','), SOURCE_TOPICS: scenario.source, KAFKA_GROUP_ID: scenario.group, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    return { code, stdout, stderr }
  }

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 2 })
    receiver = await startTestReceiver(secret)
    await scenario.start({ SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub-cli', tenantId: TENANT_0, url: receiver.url, eventTypes: ['*'], secrets: [secret] }]) })
    start = Date.now()
    count = (await scenario.feed.publishTransactions(scenario.source, { count: 30, accounts: 5 })).length
    await waitUntil('live deliveries', () => receiver.acceptedIds() === count, { timeoutMs: 60_000 })
  }, scaled(120_000))

  afterAll(async () => {
    await receiver?.close()
    await scenario?.close()
  })

  it('starts a replay the dispatcher runs, follows it to the end, and lists it', async () => {
    const mark = receiver.received.length
    const run = await runCli(['start', '--endpoint', 'sub-cli', '--tenant', TENANT_0, '--since', String(start - 1000), '--until', new Date().toISOString()])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/replay rpl_\S+ started/)
    expect(run.stderr).toContain(`scanned ${count}/${count} (100%)  matched ${count}  delivered ${count}  failed 0`)
    const job = JSON.parse(run.stdout.trim()) as { id: string, state: string }
    expect(job.state).toBe('completed')
    expect(receiver.received.length - mark).toBe(count)
    // The instance that ran it counts what it scanned and delivered.
    const metricsUrl = (scenario.dispatchers[0] as { metricsUrl: string }).metricsUrl
    expect(await readMetric(metricsUrl, 'webhooks_replay_records_scanned_total')).toBe(count)

    const list = await runCli(['list', '--endpoint', 'sub-cli'])
    expect(list.code).toBe(0)
    expect(list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([job.id])
    const status = await runCli(['status', job.id])
    expect([status.code, (JSON.parse(status.stdout) as { state: string }).state]).toEqual([0, 'completed'])
  }, scaled(120_000))

  it('exits 3 naming the refusal, 2 naming a bad flag, 4 for an unknown job', async () => {
    const refused = await runCli(['start', '--endpoint', 'sub-cli', '--tenant', TENANT_0, '--since', String(start), '--until', String(Date.now() + 3_600_000)])
    expect([refused.code, refused.stderr]).toEqual([3, expect.stringContaining('[WHD_ERR_REPLAY_RANGE]')])
    const bad = await runCli(['start', '--endpoint', 'sub-cli', '--tenant', TENANT_0, '--since', 'yesterday', '--until', String(Date.now())])
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--since')])
    const unknown = await runCli(['cancel', 'rpl_00000000-0000-0000-0000-000000000000'])
    expect(unknown.code).toBe(4)
  }, scaled(60_000))
})
