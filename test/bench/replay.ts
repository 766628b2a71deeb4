// Replay bench (DESIGN §11; not in make test): live traffic to another
// tenant's endpoint while a replay of BENCH_REPLAY_EVENTS events runs, beside
// the same live traffic without a replay, and the replay's scan rate (records
// scanned and events matched per second).
//
// 1. BENCH_REPLAY_EVENTS events of tenant-000 are published while no endpoint
//    takes them (the dispatcher drops them), then tenant-000's endpoint is
//    created: the range to replay.
// 2. Baseline: BENCH_REPLAY_LIVE_EVENTS events of tenant-001 published as one
//    backlog; deliveries/s to tenant-001's endpoint, from the first publish
//    to the last receipt.
// 3. The same backlog again while a replay of the whole range to tenant-000's
//    endpoint runs; then the replay's records and matches per second.
//
// Build and run (the local stack up, a quiet machine):
//   tsc -p test/bench/tsconfig.json && node dist/test/bench/replay.js
// Writes bench/replay.md.
import { writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { adminClient, groupCaughtUp, newAdminToken, tokenHash } from '../support/admin-client.js'
import { startDispatcher, writeSubscriptionsFile } from '../support/dispatcher-process.js'
import { createEventFeed, type EventFeed } from '../support/event-feed.js'
import { createTestTopics, uniqueTopic } from '../support/kafka.js'
import { startBenchReceiver, type BenchReceiver } from './receiver.js'

const startedAt = Date.now()
const log = (line: string): void => { process.stderr.write(`[bench-replay +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`) }
const events = Number(process.env.BENCH_REPLAY_EVENTS ?? 100_000)
const live = Number(process.env.BENCH_REPLAY_LIVE_EVENTS ?? 20_000)
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function until (what: string, probe: () => Promise<boolean>, timeoutMs = 1_800_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

/** Publishes `count` events of tenant-001 only (odd accounts of two tenants) and answers deliveries/s until the receiver has them all. */
async function liveRate (feed: EventFeed, topic: string, receiver: BenchReceiver, count: number): Promise<number> {
  const prepared = (await feed.prepareTransactions(topic, { count: count * 2, accounts: 400, tenants: 2 })).filter((p) => p.produced.tenantId === 'tenant-001')
  await receiver.reset(0)
  const from = Date.now()
  for (let i = 0; i < prepared.length; i += 500) await feed.publishRaw(topic, prepared.slice(i, i + 500).map((p) => p.message))
  await until('live deliveries', async () => (await receiver.stats()).distinct >= prepared.length)
  const stats = await receiver.stats()
  return prepared.length / (((stats.lastAt ?? Date.now()) - from) / 1000)
}

const secret = generateSecret()
const source = uniqueTopic('bench-replay-src')
const group = `bench-replay-${Date.now()}`
const { cleanup } = await createTestTopics([{ topic: source, numPartitions: 6 }])
const feed = await createEventFeed()
const liveReceiver = await startBenchReceiver(secret)
const replayReceiver = await startBenchReceiver(secret)
const token = newAdminToken()
const dispatcher = await startDispatcher({
  SOURCE_TOPICS: source,
  KAFKA_GROUP_ID: group,
  DEAD_LETTER_TOPIC: uniqueTopic('bench-replay-dlq'),
  SUBSCRIPTIONS_FILE: await writeSubscriptionsFile([{ id: 'sub-live', tenantId: 'tenant-001', url: liveReceiver.url, eventTypes: ['*'], secrets: [secret] }]),
  ADMIN_TOKENS: `${tokenHash(token)}:*`,
  LOG_LEVEL: 'warn'
})
try {
  const operator = adminClient(dispatcher.adminUrl, token)
  log(`publishing ${events} events of tenant-000 (no endpoint yet)`)
  const since = Date.now() - 1000
  for (let i = 0; i < events; i += 5000) await feed.publishTransactions(source, { count: Math.min(5000, events - i), accounts: 1000, batchSize: 1000 })
  await until('the dispatcher past them', async () => await groupCaughtUp(group, source))
  const replayUntil = Date.now()
  const created = await operator.request('POST', '/v1/endpoints', { tenantId: 'tenant-000', url: replayReceiver.url, eventTypes: ['*'] })
  if (created.status !== 201) throw new Error(`create endpoint: ${created.status} ${JSON.stringify(created.body)}`)
  const replayId = (created.body as { endpoint: { id: string } }).endpoint.id
  // Its secret is new: the bench receiver counts requests whether they verify or not.

  // A first live run warms the dispatcher up (JIT, connections) and is not
  // counted; the baseline is the better of one run before the replay and one
  // after it, so the warm-up cannot flatter the run during the replay.
  log(`warm-up: ${live} live events of tenant-001`)
  await liveRate(feed, source, liveReceiver, live)
  log(`baseline: ${live} live events of tenant-001`)
  const before = await liveRate(feed, source, liveReceiver, live)
  log(`baseline before the replay ${before.toFixed(0)} deliveries/s`)

  const started = await operator.request<{ id: string }>('POST', `/v1/endpoints/${replayId}/replay`, { since, until: replayUntil })
  if (started.status !== 201) throw new Error(`replay: ${started.status} ${JSON.stringify(started.body)}`)
  const job = started.body.id
  // Live traffic is measured once the replay delivers (its consumer group
  // takes a few seconds to join), so the two really run side by side.
  await until('the replay delivering', async () => (await operator.request<{ progress: { delivered: number } }>('GET', `/v1/replays/${job}`)).body.progress.delivered >= 2000)
  const during = await liveRate(feed, source, liveReceiver, live)
  const replayAfterLive = (await operator.request<{ state: string }>('GET', `/v1/replays/${job}`)).body.state
  if (replayAfterLive !== 'running') log('the replay ended before the live run did: raise BENCH_REPLAY_EVENTS for a fair figure')
  log(`during the replay ${during.toFixed(0)} deliveries/s`)
  let lastProgress = Date.now()
  let view: { state: string, createdAt: string, updatedAt: string, progress: { records: number, scanned: number, matched: number, delivered: number } } | undefined
  await until('the replay done', async () => {
    view = (await operator.request<NonNullable<typeof view>>('GET', `/v1/replays/${job}`)).body
    if (Date.now() - lastProgress >= 10_000) {
      lastProgress = Date.now()
      log(`replay ${view.state}: ${JSON.stringify(view.progress)}`)
    }
    return view.state !== 'running'
  })
  const done = view as NonNullable<typeof view>
  const after = await liveRate(feed, source, liveReceiver, live)
  log(`baseline after the replay ${after.toFixed(0)} deliveries/s`)
  const baseline = Math.max(before, after)
  const seconds = (Date.parse(done.updatedAt) - Date.parse(done.createdAt)) / 1000
  const row = {
    events,
    live,
    baselinePerSecond: Math.round(baseline),
    duringPerSecond: Math.round(during),
    kept: during / baseline,
    scannedPerSecond: Math.round(done.progress.scanned / seconds),
    matchedPerSecond: Math.round(done.progress.matched / seconds),
    delivered: done.progress.delivered,
    seconds: Math.round(seconds),
    load: loadavg()[0]?.toFixed(1),
    cores: cpus().length
  }
  log(JSON.stringify(row))
  await writeFile('bench/replay.md', `# Replay bench (node dist/test/bench/replay.js)

| replayed events | live events | live deliveries/s without a replay (better of before and after) | with a replay running | kept | replay: records scanned/s | events matched/s | replay seconds | load (1 min) / cores |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| ${row.events} | ${row.live} | ${row.baselinePerSecond} | ${row.duringPerSecond} | ${(row.kept * 100).toFixed(0)} % | ${row.scannedPerSecond} | ${row.matchedPerSecond} | ${row.seconds} | ${row.load} / ${row.cores} |

Measured ${new Date().toISOString()}. Live rates: a warm-up run (not counted), ${Math.round(before)}/s before
the replay, ${Math.round(during)}/s while it ran, ${Math.round(after)}/s after it. Every event of the range is the replayed
tenant's, so matched equals scanned; the replay delivers at most
REPLAY_MAX_IN_FLIGHT (${process.env.REPLAY_MAX_IN_FLIGHT ?? 4}) at once.
`)
} finally {
  dispatcher.kill('SIGTERM')
  await dispatcher.exited
  await Promise.all([liveReceiver.close(), replayReceiver.close(), feed.close()])
  await cleanup()
}
