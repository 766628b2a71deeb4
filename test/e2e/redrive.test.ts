import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Admin, Consumer, IHeaders } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { H } from '../../services/dispatcher/src/engine/parked-record.js'
import { redrive } from '../../services/dispatcher/src/redrive/run.js'
import { createKafkaDeadLetters } from '../../services/dispatcher/src/redrive/kafka-dead-letters.js'
import { readLifecycle } from '../../services/dispatcher/src/redrive/lifecycle-topic.js'
import { deadLetterId } from '../../services/dispatcher/src/dead-letters/lifecycle.js'
import { readMetric, startDispatcher, writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { createEventFeed, type EventFeed } from '../support/event-feed.js'
import { createTestTopics, testKafka, uniqueTopic } from '../support/kafka.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import { testStack } from '../support/stack.js'
import { waitUntil } from '../support/wait.js'
import { startTestReceiver, type TestReceiver } from '../support/webhook-receiver.js'

const redriveJs = join(import.meta.dirname, '../../dist/services/dispatcher/src/cli/redrive.js')

interface Read {
  partition: number
  offset: bigint
  key: Buffer | null
  value: Buffer | null
  headers: IHeaders
}

/** Reads a topic from the beginning, for as long as the test runs. */
async function collect (topic: string): Promise<{ records: Read[], consumer: Consumer, groupId: string }> {
  const groupId = uniqueTopic('collector')
  const consumer = (await testKafka('test-collector')).consumer({ groupId, maxWaitTimeInMs: 100 })
  const records: Read[] = []
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({ partition, offset: BigInt(message.offset), key: message.key, value: message.value, headers: message.headers ?? {} })
    }
  })
  return { records, consumer, groupId }
}

function header (record: Read, name: string): string | undefined {
  const value = record.headers[name]
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : first.toString()
}

async function endOffsets (admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]))
}

function added (before: Map<number, bigint>, after: Map<number, bigint>): number {
  let n = 0n
  for (const [partition, end] of after) n += end - (before.get(partition) ?? 0n)
  return Number(n)
}

/** Runs the built redrive CLI against the test stack. */
async function runCli (args: string[], env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const { brokers } = await testStack()
  const child = spawn(process.execPath, [redriveJs, ...args], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  return { code, stdout, stderr }
}

/** The counts of the CLI's summary line. */
function summaryCounts (stdout: string): { scanned: number, matched: number, redriven: number, skipped: number } {
  const match = /^(?:redrive complete|dry run, nothing written): scanned (\d+) of \d+, matched (\d+), (?:redriven|would redrive) (\d+), skipped (\d+)$/m.exec(stdout)
  if (match === null) throw new Error(`no summary in:\n${stdout}`)
  const [, scanned, matched, redriven, skipped] = match.map(Number) as [number, number, number, number, number]
  return { scanned, matched, redriven, skipped }
}

describe('redrive end to end', () => {
  const source = uniqueTopic('e2e-redrive-tx')
  const deadLetterTopic = uniqueTopic('e2e-redrive-dlq')
  const group = uniqueTopic('e2e-redrive-group')
  const retry = `${source}.retry.${group}`
  const stateTopic = `webhooks.dead-letter-state.${group}`
  const secret = generateSecret()
  const cliEnv = { DEAD_LETTER_TOPIC: deadLetterTopic, KAFKA_GROUP_ID: group }
  const byOperator = ['--by', 'cli:e2e-operator']
  let admin: Admin
  let cleanup: () => Promise<void>
  let feed: EventFeed
  let receiver: TestReceiver
  let dispatcher: DispatcherProcess | undefined
  let down = true
  const collectors: Array<{ consumer: Consumer, groupId: string }> = []
  let sourceRecords: Read[] = []
  let retryRecords: Read[] = []
  let deadLetters: Read[] = []
  let wave1: ProducedEvent[] = []
  /** eventId of a record value. */
  const eventIdOf = async (value: Buffer | null): Promise<string> => (await feed.codec.decode(value)).event.eventId

  beforeAll(async () => {
    ;({ admin, cleanup } = await createTestTopics([
      { topic: source, numPartitions: 3 },
      { topic: retry, numPartitions: 3 },
      { topic: deadLetterTopic, numPartitions: 2 }
    ]))
    feed = await createEventFeed()
    receiver = await startTestReceiver(secret, () => ({ status: down ? 500 : 204 }))
    const started = await Promise.all([collect(source), collect(retry), collect(deadLetterTopic)])
    ;[sourceRecords, retryRecords, deadLetters] = started.map((c) => c.records) as [Read[], Read[], Read[]]
    collectors.push(...started)
    dispatcher = await startDispatcher({
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: deadLetterTopic,
      KAFKA_GROUP_ID: group,
      RETRY_SCHEDULE_MS: '100,200',
      RETRY_MAX_AGE_SECONDS: '1',
      // Exhaustion and redrive are the subject here, not the circuit breaker.
      CIRCUIT_FAILURE_THRESHOLD: '10000',
      LOG_LEVEL: 'warn',
      SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([
        { id: 'sub-a', tenantId: 'tenant-000', url: receiver.url, eventTypes: ['transaction.*'], secrets: [secret] }
      ])
    })
  })

  afterAll(async () => {
    dispatcher?.kill('SIGKILL')
    await Promise.all(collectors.map((c) => c.consumer.disconnect()))
    await admin?.deleteGroups(collectors.map((c) => c.groupId)).catch(() => undefined)
    await receiver?.close()
    await feed?.close()
    await cleanup?.()
    await admin?.deleteTopics({ topics: [stateTopic] }).catch(() => undefined)
  })

  it('dead-letters exhausted deliveries with reason, attempts, subscription, source coordinates and the original bytes', async () => {
    wave1 = await feed.publishTransactions(source, { count: 16, accounts: 4 })
    await feed.publishRaw(source, [{ key: 'acc-poison', value: Buffer.from([1, 2, 3, 4, 5, 6]) }])

    await waitUntil('17 dead letters', () => deadLetters.length >= 17, { timeoutMs: 45_000 })
    expect(deadLetters).toHaveLength(17)
    expect(await readMetric((dispatcher as DispatcherProcess).metricsUrl, 'webhooks_dead_letters_total')).toBe(17)

    const ids = new Set(wave1.map((e) => e.eventId))
    const seen = new Set<string>()
    for (const letter of deadLetters) {
      const sourcePartition = Number(header(letter, H.sourcePartition))
      const sourceOffset = BigInt(header(letter, H.sourceOffset) ?? '-1')
      const original = sourceRecords.find((r) => r.partition === sourcePartition && r.offset === sourceOffset)
      expect(original, `source record ${sourcePartition}@${sourceOffset}`).toBeDefined()
      expect(header(letter, H.sourceTopic)).toBe(source)
      expect(letter.key?.equals(original?.key as Buffer)).toBe(true)
      expect(letter.value?.equals(original?.value as Buffer)).toBe(true)
      expect(Number(header(letter, H.deadLetteredAt))).toBeGreaterThan(0)
      if (letter.key?.toString() === 'acc-poison') {
        expect(header(letter, H.reason)).toBe('bad-magic-byte')
        expect(header(letter, H.subscriptionId)).toBeUndefined()
        continue
      }
      expect(header(letter, H.reason)).toBe('retries-exhausted')
      expect(header(letter, H.subscriptionId)).toBe('sub-a')
      expect(Number(header(letter, H.attempts))).toBeGreaterThanOrEqual(2)
      expect(Number(header(letter, H.firstFailureAt))).toBeGreaterThan(0)
      expect(header(letter, H.lastStatus)).toBe('500')
      seen.add(await eventIdOf(letter.value))
    }
    expect(seen).toEqual(ids)
    expect(receiver.accepted()).toHaveLength(0)
  })

  it('a dry run writes nothing and prints what it would do', async () => {
    const retryBefore = await endOffsets(admin, retry)
    const deadBefore = await endOffsets(admin, deadLetterTopic)
    const requestsBefore = receiver.received.length

    const run = await runCli(['--dry-run'], cliEnv)

    expect(run.code, run.stderr).toBe(0)
    expect(summaryCounts(run.stdout)).toEqual({ scanned: 17, matched: 17, redriven: 16, skipped: 1 })
    expect(run.stdout).toMatch(/^dry run, nothing written: /m)
    expect(run.stdout.match(/^would redrive /gm)).toHaveLength(16)
    expect(run.stdout).toMatch(/^would skip .*account="acc-poison" reason=bad-magic-byte .*\(no-subscription: /m)
    expect(run.stderr).toContain('redrive (dry run): scanned 17 of 17, matched 17, would redrive 16, skipped 1')
    expect(added(retryBefore, await endOffsets(admin, retry))).toBe(0)
    expect(added(deadBefore, await endOffsets(admin, deadLetterTopic))).toBe(0)
    expect(receiver.received.length).toBe(requestsBefore)
  })

  it('redriving one account (CLI) delivers exactly its events, in order, from fresh retry records', async () => {
    down = false
    const retryBefore = await endOffsets(admin, retry)
    const account = 'acc-000001'

    const run = await runCli(['--account', account, '--subscription', 'sub-a', '--source-topic', source, ...byOperator], cliEnv)

    expect(run.code, run.stderr).toBe(0)
    expect(summaryCounts(run.stdout)).toEqual({ scanned: 17, matched: 4, redriven: 4, skipped: 0 })
    expect(added(retryBefore, await endOffsets(admin, retry))).toBe(4)
    const isNew = (r: Read): boolean => r.offset >= (retryBefore.get(r.partition) ?? 0n)
    await waitUntil('the redriven records on the retry topic', () => retryRecords.filter(isNew).length === 4)
    const sourcePartitionOf = new Set(deadLetters.filter((l) => l.key?.toString() === account).map((l) => header(l, H.sourcePartition)))
    for (const record of retryRecords.filter(isNew)) {
      expect(record.key?.toString()).toBe(account)
      expect(String(record.partition)).toBe(header(record, H.sourcePartition))
      expect(sourcePartitionOf.has(String(record.partition))).toBe(true)
      expect(header(record, H.subscriptionId)).toBe('sub-a')
      expect(header(record, H.attempts)).toBe('0')
      expect(header(record, H.firstFailureAt)).toBeUndefined()
      expect(header(record, H.lastError)).toBeUndefined()
      expect(header(record, H.lastStatus)).toBeUndefined()
      expect(header(record, H.reason)).toBeUndefined()
      expect(Number(header(record, H.redrivenAt))).toBeGreaterThan(0)
    }

    const ofAccount = () => receiver.accepted().filter((r) => r.accountId === account)
    await waitUntil(`${account}'s four events delivered`, () => ofAccount().length >= 4)
    expect(ofAccount().map((r) => r.accountSequence)).toEqual([1, 2, 3, 4])
    expect(receiver.accepted().filter((r) => r.accountId !== account)).toEqual([])
    expect(receiver.badSignatures).toBe(0)
  })

  it('the same redrive again sends nothing twice: the letters are recorded as redriven, then delivered, on the state topic', async () => {
    const account = 'acc-000001'
    const ofAccount = () => receiver.received.filter((r) => r.accountId === account)
    const requestsBefore = ofAccount().length
    const kafka = await testKafka('test-redrive-state')
    const ours = deadLetters.filter((l) => l.key?.toString() === account).map((l) => deadLetterId(deadLetterTopic, l.partition, l.offset))
    expect(ours).toHaveLength(4)
    // The retry lane reports each delivery of a redriven record.
    await waitUntil('the four letters recorded as delivered', async () => {
      const { letters } = await readLifecycle(kafka, stateTopic)
      return ours.every((id) => letters.get(id)?.state === 'delivered')
    }, { timeoutMs: 45_000 })
    const { letters } = await readLifecycle(kafka, stateTopic)
    for (const id of ours) expect(letters.get(id)).toMatchObject({ state: 'delivered', redrives: 1, redrivenBy: 'cli:e2e-operator' })

    const again = await runCli(['--account', account, '--subscription', 'sub-a', '--source-topic', source, ...byOperator], cliEnv)
    expect(again.code, again.stderr).toBe(0)
    expect(summaryCounts(again.stdout)).toEqual({ scanned: 17, matched: 4, redriven: 0, skipped: 4 })
    expect(again.stdout).toMatch(/^ {2}skipped \(already-redriven\): 4$/m)
    // The CLI filters kafkajs's harmless timer warning, as the dispatcher does.
    expect(again.stderr).not.toContain('TimeoutNegativeWarning')
    expect(again.stdout.match(/^skipped .*\(already-redriven: delivered since /gm)).toHaveLength(4)
    expect(ofAccount().length).toBe(requestsBefore)

    // Listed by state, a page at a time, with counts over all of them.
    const deadLetterOps = createKafkaDeadLetters({ kafka, deadLetterTopic, stateTopic, retryTopicSuffix: `.retry.${group}`, compression: 0 })
    const delivered = await deadLetterOps.list({}, { limit: 10, states: ['delivered'] })
    expect(delivered.items.map((l) => l.id).sort()).toEqual([...ours].sort())
    expect(delivered.items.every((l) => l.redrivenBy === 'cli:e2e-operator' && l.redriveId !== undefined)).toBe(true)
    const pages: string[] = []
    let after = undefined as Parameters<typeof deadLetterOps.list>[1]['after']
    for (;;) {
      const page = await deadLetterOps.list({}, { limit: 5, ...(after === undefined ? {} : { after }) })
      expect(page).toMatchObject({ total: 17, countByReason: { 'retries-exhausted': 16, 'bad-magic-byte': 1 }, countByState: { dead: 13, delivered: 4 } })
      pages.push(...page.items.map((l) => l.id))
      if (page.next === undefined) break
      after = page.next
    }
    expect(pages).toHaveLength(17)
    expect(new Set(pages).size).toBe(17)

    // --again sends them once more, counting the redrives.
    const forced = await runCli(['--account', account, '--subscription', 'sub-a', '--again', ...byOperator], cliEnv)
    expect(forced.code, forced.stderr).toBe(0)
    expect(summaryCounts(forced.stdout)).toMatchObject({ matched: 4, redriven: 4, skipped: 0 })
    await waitUntil('the forced redrive delivered', () => ofAccount().length >= requestsBefore + 4)
    await waitUntil('the letters delivered a second time', async () => {
      const view = await readLifecycle(kafka, stateTopic)
      return ours.every((id) => view.letters.get(id)?.state === 'delivered' && view.letters.get(id)?.redrives === 2)
    }, { timeoutMs: 45_000 })
  })

  it('redriving the rest (redrive()) delivers every event once, in order per account', async () => {
    const kafka = await testKafka('test-redrive')
    const result = await redrive({
      kafka,
      deadLetterTopic,
      retryTopicSuffix: `.retry.${group}`,
      filter: { subscriptionIds: ['sub-a'], accountIds: ['acc-000000', 'acc-000002', 'acc-000003'] }
    })
    expect(result).toMatchObject({ scanned: 17, toScan: 17, matched: 12, redriven: 12, skipped: 0, complete: true, dryRun: false })

    const report = () => checkDeliveries(wave1, [
      { id: 'sub-a', tenantId: 'tenant-000', matches: () => true, accepted: receiver.accepted() }
    ])
    await waitUntil('every event delivered', () => report().missing.length === 0)
    const final = report()
    expect(final.expected).toBe(16)
    expect(final.orderViolations).toEqual([])
    expect(final.unexpected).toEqual([])
    // acc-000001's four, sent once more on purpose by --again above.
    expect(final.duplicates).toBe(4)
  })

  it('a time-range filter leaves dead letters outside the range alone; a redriven delivery gets a fresh retry budget', async () => {
    down = true
    const boundary = Math.max(...deadLetters.map((l) => Number(header(l, H.deadLetteredAt)))) + 1
    const wave2 = await feed.publishTransactions(source, { count: 4, accounts: 2 })
    await waitUntil('21 dead letters', () => deadLetters.length >= 21, { timeoutMs: 45_000 })
    const newer = deadLetters.slice(17)
    expect(newer.every((l) => Number(header(l, H.deadLetteredAt)) >= boundary)).toBe(true)

    // The upper bound is exclusive and leaves the 4 newer letters out.
    const before = await redrive({ kafka: await testKafka('test-redrive'), deadLetterTopic, retryTopicSuffix: `.retry.${group}`, dryRun: true, filter: { to: boundary } })
    expect(before).toMatchObject({ scanned: 21, matched: 17, redriven: 16, skipped: 1 })

    const retryBefore = await endOffsets(admin, retry)
    const redrivenAt = Date.now()
    const run = await runCli(['--from', new Date(boundary).toISOString()], cliEnv)
    expect(run.code, run.stderr).toBe(0)
    expect(summaryCounts(run.stdout)).toEqual({ scanned: 21, matched: 4, redriven: 4, skipped: 0 })
    expect(added(retryBefore, await endOffsets(admin, retry))).toBe(4)
    const isNew = (r: Read): boolean => r.offset >= (retryBefore.get(r.partition) ?? 0n)
    await waitUntil('the redriven records on the retry topic', () => retryRecords.filter(isNew).length === 4)
    const redrivenIds = await Promise.all(retryRecords.filter(isNew).map((r) => eventIdOf(r.value)))
    expect(new Set(redrivenIds)).toEqual(new Set(wave2.map((e) => e.eventId)))

    // The receiver is still down: each redriven delivery runs a whole new
    // budget (first failure after the redrive, several attempts) and is
    // dead-lettered again.
    await waitUntil('the redriven deliveries dead-lettered again', () => deadLetters.length >= 25, { timeoutMs: 45_000 })
    for (const letter of deadLetters.slice(21)) {
      expect(header(letter, H.reason)).toBe('retries-exhausted')
      expect(Number(header(letter, H.firstFailureAt))).toBeGreaterThanOrEqual(redrivenAt)
      expect(Number(header(letter, H.attempts))).toBeGreaterThanOrEqual(2)
    }
    expect(new Set(await Promise.all(deadLetters.slice(21).map((l) => eventIdOf(l.value))))).toEqual(new Set(wave2.map((e) => e.eventId)))
    // Each new letter names the one it was redriven from, and that one is dead again.
    const predecessors = deadLetters.slice(17, 21).map((l) => deadLetterId(deadLetterTopic, l.partition, l.offset))
    expect(deadLetters.slice(21).map((l) => header(l, H.redriveOf)).sort()).toEqual([...predecessors].sort())
    const kafka = await testKafka('test-redrive-state')
    await waitUntil('the four letters recorded as dead again', async () => {
      const { letters } = await readLifecycle(kafka, stateTopic)
      return predecessors.every((id) => letters.get(id)?.state === 'dead-again')
    })
    expect((await readLifecycle(kafka, stateTopic)).letters.get(predecessors[0] as string)).toMatchObject({ state: 'dead-again', reason: 'retries-exhausted' })
  })

  it('exits 2 naming a bad flag, and 1 when Kafka cannot serve the scan', async () => {
    const badTime = await runCli(['--from', 'yesterday'], cliEnv)
    expect(badTime.code).toBe(2)
    expect(badTime.stderr).toContain('--from')
    const unknown = await runCli(['--since', '2024-01-01'], cliEnv)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--since')
    const missing = `missing-${randomUUID()}`
    const noTopic = await runCli([], { DEAD_LETTER_TOPIC: missing })
    expect(noTopic.code).toBe(1)
    expect(noTopic.stderr).toContain(missing)
  })
})
