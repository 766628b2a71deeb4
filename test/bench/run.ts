// `make bench`: the dispatcher beside a naive consumer and beside the raw
// ceilings, in one run, on the same pre-produced events (DESIGN §9). Writes
// a markdown table to bench/results.md (BENCH_RESULTS) and prints it.
//
// Build and run: tsc -p test/bench/tsconfig.json && node dist/test/bench/run.js
// Settings: see config.ts (BENCH_EVENTS, …). Traffic stays on loopback.
import { randomUUID } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, release, totalmem } from 'node:os'
import { dirname } from 'node:path'
import { createEventCodec, createEventRegistry } from '../../services/events/src/index.js'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { writeSubscriptionsFile } from '../support/dispatcher-process.js'
import { createEventFeed } from '../support/event-feed.js'
import { createTestTopics, testKafka } from '../support/kafka.js'
import { testStack } from '../support/stack.js'
import { measureConsumeDecode, measureDeliverer, measureHttpPost } from './ceilings.js'
import { loadBenchConfig } from './config.js'
import { runDispatcher } from './dispatcher-run.js'
import { sampleLoad } from './load.js'
import { measureNaive } from './naive-consumer.js'
import { startBenchReceiver } from './receiver.js'
import { renderMarkdown, scaleOutProblems, verdicts, workloadProblems, type BenchResult, type Round, type WorkloadResult } from './report.js'
import { measureScaleOut, type ScaleOutResult } from './scale-out.js'

const TENANT = 'tenant-000'
const startedAt = Date.now()
// Sampled from the start: the header shows how loaded the machine was.
const load = sampleLoad(10_000)

function log (line: string): void {
  process.stderr.write(`[bench +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`)
}

function machine (): string {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}; Kafka and Apicurio Registry on loopback, shared with whatever else runs`
}

async function main (): Promise<number> {
  const config = loadBenchConfig()
  const abort = new AbortController()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping, then cleaning up`)
      abort.abort()
    })
  }
  const { registryUrl } = await testStack()
  const runId = randomUUID().slice(0, 8)
  const topic = `bench-tx-${runId}`
  const deadLetterTopic = `bench-dlq-${runId}`
  const groups: string[] = []
  const group = (name: string): string => {
    const id = `bench-${name}-${runId}`
    groups.push(id)
    return id
  }
  const secret = generateSecret()
  const cleanups: Array<[string, () => Promise<unknown>]> = []

  // One backlog topic, and an empty topic per dispatcher run for its paced
  // phase: a later run's fresh group must not re-read an earlier run's
  // paced events as part of its backlog.
  const pacedTopics = { W1: `bench-paced-w1-${runId}`, W2: `bench-paced-w2-${runId}` }
  // Scale-out: a fresh topic per run (1, then 2 instances), produced to
  // only once the group has settled.
  const scaleTopics = config.scaleEvents > 0 ? [`bench-scale-1-${runId}`, `bench-scale-2-${runId}`] : []
  const sourceTopics = [topic, ...Object.values(pacedTopics), ...scaleTopics]
  log(`topic ${topic}: ${config.partitions} partitions; producing ${config.events} events over ${config.accounts} accounts`)
  const topics = await createTestTopics(sourceTopics.map((t) => ({ topic: t, numPartitions: config.partitions })))
  cleanups.push(['delete topics and groups', async () => {
    const existing = new Set(await topics.admin.listTopics())
    const extra = [...sourceTopics.map((t) => `${t}.retry`), deadLetterTopic].filter((t) => existing.has(t))
    if (extra.length > 0) await topics.admin.deleteTopics({ topics: extra })
    await topics.admin.deleteGroups(groups).catch(() => undefined)
    await topics.cleanup()
  }])
  cleanups.push(['delete registry subjects', async () => {
    for (const t of sourceTopics) {
      const subject = `${registryUrl}/subjects/${encodeURIComponent(`${t}-value`)}`
      await fetch(subject, { method: 'DELETE' }).then((res) => res.body?.cancel())
      await fetch(`${subject}?permanent=true`, { method: 'DELETE' }).then((res) => res.body?.cancel())
    }
  }])
  try {
    const receiver = await startBenchReceiver(secret)
    cleanups.unshift(['stop receiver', () => receiver.close()])
    const feed = await createEventFeed()
    cleanups.unshift(['close feed', () => feed.close()])
    const produced = await feed.publishTransactions(topic, { count: config.events, accounts: config.accounts, tenants: 1 })
    log(`produced ${produced.length} events`)

    const kafka = await testKafka('bench')
    // A cold codec, as the dispatcher starts with.
    const codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl, autoRegister: false, retries: 2 }) })

    log('ceiling A: consume and decode')
    const ceilingA = await measureConsumeDecode({
      kafka, topic, groupId: group('ceiling-a'), partitions: config.partitions, expected: produced.length, codec, budgetMs: config.ceilingBudgetMs, signal: abort.signal
    })
    if (!ceilingA.rate.complete) throw new Error(`ceiling A read ${ceilingA.rate.count} of ${produced.length} records within ${config.ceilingBudgetMs} ms`)
    log(`  ${ceilingA.rate.perSecond.toFixed(0)} records/s`)

    const subscriptionsFile = await writeSubscriptionsFile([
      { id: 'bench-all', tenantId: TENANT, url: receiver.url, eventTypes: ['*'], secrets: [secret] }
    ])
    cleanups.unshift(['remove subscriptions file', () => rm(dirname(subscriptionsFile), { recursive: true, force: true })])
    const workloads: WorkloadResult[] = []
    for (const [name, description, delayMs] of [
      ['W1', 'receiver answers at once (204)', 0],
      ['W2', `receiver takes ${config.slowReceiverMs} ms`, config.slowReceiverMs]
    ] as const) {
      const rounds: Round[] = []
      for (let round = 1; round <= config.rounds && !abort.signal.aborted; round++) {
        const tag = config.rounds > 1 ? `${name} round ${round}` : name
        const posting = { receiver, bodies: ceilingA.bodies, secret, concurrency: config.maxInFlight, signal: abort.signal }
        log(`${tag}: ceiling B, HTTP POST at ${config.maxInFlight} concurrent`)
        await receiver.reset(delayMs)
        const ceilingB = await measureHttpPost({ ...posting, budgetMs: config.ceilingBudgetMs })
        log(`  ${ceilingB.rate.perSecond.toFixed(0)} requests/s`)

        log(`${tag}: diagnostic D, the dispatcher's HTTP deliverer alone`)
        await receiver.reset(delayMs)
        const deliverer = await measureDeliverer({ ...posting, budgetMs: config.delivererBudgetMs })
        log(`  ${deliverer.rate.perSecond.toFixed(0)} requests/s`)

        log(`${tag}: naive consumer`)
        await receiver.reset(delayMs)
        const naive = await measureNaive({
          kafka, topic, groupId: group(`naive-${name}-${round}`), partitions: config.partitions, expected: produced.length, codec,
          receiver, secret, budgetMs: config.naiveBudgetMs, signal: abort.signal
        })
        log(`  ${naive.rate.perSecond.toFixed(0)} deliveries/s (${naive.rate.count} delivered)`)

        log(`${tag}: dispatcher`)
        // The paced phase and the profile come from the first round only.
        const dispatcher = await runDispatcher({
          kafka,
          codec: feed.codec,
          topic,
          deadLetterTopic,
          groupId: group(`dispatcher-${name}-${round}`),
          subscriptionsFile,
          tenantId: TENANT,
          maxInFlight: config.maxInFlight,
          receiver,
          produced,
          budgetMs: config.dispatcherBudgetMs,
          // W1: the latency figure at a fixed rate; W2: a rate below its throughput.
          paced: round !== 1
            ? undefined
            : name === 'W1'
              ? { topic: pacedTopics[name], rate: { fixed: config.latencyRate }, seconds: config.latencySeconds }
              : { topic: pacedTopics[name], rate: { max: config.pacedRate, share: config.pacedShare }, seconds: config.pacedSeconds },
          profile: config.profile && round === 1,
          signal: abort.signal,
          log
        }, delayMs)
        rounds.push({ ceilingB, deliverer, naive, dispatcher })
      }
      workloads.push({ name, description, receiverDelayMs: delayMs, rounds })
    }
    let scaleOut: ScaleOutResult | undefined
    if (scaleTopics.length > 0 && !abort.signal.aborted) {
      // History to the topic only: with the SQLite index every instance
      // indexes every instance's attempts, which the README advises against
      // for several instances; that work would grow with the instance count
      // and make two instances CPU-bound on this 2-core machine.
      const env = { HISTORY_STORE: 'none' }
      scaleOut = { maxInFlight: config.scaleMaxInFlight, receiverDelayMs: config.slowReceiverMs, events: config.scaleEvents, env, runs: [], failed: undefined }
      for (const [i, scaleTopic] of scaleTopics.entries()) {
        if (abort.signal.aborted) break
        const instances = i + 1
        log(`scale-out: ${instances} instance(s), W2, MAX_IN_FLIGHT=${config.scaleMaxInFlight} each`)
        // A failure here must not throw away the rest of the run's figures.
        const measured = await measureScaleOut({
          kafka,
          feed,
          topic: scaleTopic,
          deadLetterTopic,
          groupId: group(`scale-${instances}`),
          subscriptionsFile,
          tenantId: TENANT,
          maxInFlight: config.scaleMaxInFlight,
          receiver,
          receiverDelayMs: config.slowReceiverMs,
          events: config.scaleEvents,
          accounts: Math.min(config.accounts, config.scaleEvents),
          instances,
          budgetMs: config.dispatcherBudgetMs,
          env,
          signal: abort.signal,
          log
        }).catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err)
          log(`  scale-out with ${instances} instance(s) failed: ${message}`)
          return message
        })
        if (typeof measured === 'string') {
          scaleOut.failed = `${instances} instance(s): ${measured.split('\n')[0] ?? ''}`
          break
        }
        scaleOut.runs.push(measured)
      }
    }
    if (abort.signal.aborted) {
      log('aborted; no results written')
      return 130
    }

    const result: BenchResult = {
      date: new Date().toISOString(),
      rounds: config.rounds,
      machine: machine(),
      events: produced.length,
      accounts: config.accounts,
      partitions: config.partitions,
      maxInFlight: config.maxInFlight,
      naiveBudgetMs: config.naiveBudgetMs,
      ceilingA: ceilingA.rate,
      workloads,
      latencyRate: config.latencyRate,
      scaleOut,
      load: load.stop(),
      durationSeconds: (Date.now() - startedAt) / 1000,
      command: 'make bench'
    }
    const markdown = renderMarkdown(result)
    await mkdir(dirname(config.resultsPath), { recursive: true })
    await writeFile(config.resultsPath, markdown)
    process.stdout.write(`${markdown}\n`)
    log(`written to ${config.resultsPath}`)

    const broken = [
      ...workloads.map((w) => workloadProblems(w).map((p) => `${w.name}: ${p}`)),
      ...(scaleOut?.runs ?? []).map((r) => scaleOutProblems(r).map((p) => `scale-out ${p}`)),
      scaleOut?.failed === undefined ? [] : [`scale-out ${scaleOut.failed}`]
    ].flat()
    if (broken.length > 0) {
      log(`INVALID dispatcher run(s): ${broken.join(' | ')}`)
      return 1
    }
    const missed = verdicts(result).filter((v) => !v.met)
    if (missed.length > 0) log(`targets missed: ${missed.map((v) => `${v.figure} ${v.target} (measured ${v.measured})`).join('; ')}`)
    return config.strict && missed.length > 0 ? 1 : 0
  } finally {
    for (const [name, step] of cleanups) {
      try {
        await step()
      } catch (err) {
        log(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }
}

main().then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
})
