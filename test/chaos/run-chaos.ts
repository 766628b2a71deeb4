/**
 * A chaos run: produce-consume-validate over `events` events on a broker of
 * the run's own (so that stopping it disturbs nothing else), three
 * subscriptions, and a fixed sequence of faults injected as the deliveries
 * progress. Starts everything it needs and stops everything it started,
 * whatever happens. `make chaos` (main.ts) runs it at full size and writes
 * chaos/results.md; chaos.test.ts runs a small configuration in `make test`.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs'
import { createEventCodec, createEventRegistry, familyType, frameWire, registerKafkaCodecs } from '../../services/events/src/index.js'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { readMetric, startDispatcher, writeSubscriptionsFile, type DispatcherProcess } from '../support/dispatcher-process.js'
import { createTestTopics, uniqueTopic } from '../support/kafka.js'
import { repoRoot } from '../support/log-segments.js'
import { startPrivateKafka, type PrivateKafka } from '../support/private-kafka.js'
import { testStack } from '../support/stack.js'
import { waitUntil } from '../support/wait.js'
import { accountId, accountOf, chaosEvent, SUBSCRIPTIONS, TENANT, type EventPlan } from './plan.js'
import { startChaosReceiver, type EndpointBehaviour, type EndpointTally } from './receiver.js'

export interface ChaosOptions {
  events: number
  /** At least 2,000 for the full run. */
  accounts: number
  partitions: number
  /** How long sub-outage's endpoint answers 503 (≥ 60 s for the full run). */
  outageMs: number
  /** Events per second; 0 produces as fast as the broker takes them (a backlog). */
  produceRatePerSecond: number
  /** How long to wait for every delivery once the faults are done (unscaled; waitUntil scales it). */
  settleTimeoutMs: number
  log: (line: string) => void
  /** Stops the run early (Ctrl-C of make chaos); everything started is still stopped. */
  signal?: AbortSignal
}

export interface FaultRecord {
  name: string
  /** ms since the run started. */
  at: number
  /** Deliveries of sub-all done when it began, as a fraction. */
  progress: number
  /** How long injecting it took (a restart, the broker's stop and start). */
  tookMs: number
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log'>
  machine: string
  startedAt: string
  runSeconds: number
  /** ms from the start until the last event was acknowledged by the broker. */
  producedAfterMs: number
  faults: FaultRecord[]
  endpoints: EndpointTally[]
  lost: number
  orderViolations: number
  duplicates: number
  duplicatesByPhase: Record<string, number>
  badSignatures: number
  unexpected: number
  /** First receipts of all three endpoints per second, first to last. */
  deliveriesPerSecond: number
  load: { atStart: number, atEnd: number, max: number, mean: number }
  /** Exit code of each dispatcher stopped with SIGTERM at the end (0 = clean). */
  finalExitCodes: Array<number | null>
  /** Where the dispatchers' logs were written. */
  logDir: string
}

/** The fault sequence: the progress of sub-all at which each starts. */
export const FAULT_PLAN = [
  { at: 0.05, name: 'endpoint outage (sub-outage answers 503)' },
  { at: 0.15, name: 'kill -9 dispatcher #1' },
  { at: 0.3, name: 'broker stop and start' },
  { at: 0.45, name: 'second dispatcher joins' },
  { at: 0.55, name: 'kill -9 dispatcher #2' },
  { at: 0.65, name: 'second dispatcher leaves (SIGTERM)' },
  { at: 0.8, name: 'kill -9 dispatcher #3' }
] as const

const BATCH = 500

export async function runChaos (options: ChaosOptions): Promise<ChaosReport> {
  const { log } = options
  const started = Date.now()
  const elapsed = (): number => Date.now() - started
  const plan: EventPlan = { runId: randomBytes(4).toString('hex'), events: options.events, accounts: options.accounts }
  const cleanups: Array<[string, () => Promise<unknown>]> = []
  const loads: number[] = [loadavg()[0] as number]
  const loadTimer = setInterval(() => loads.push(loadavg()[0] as number), 5000)
  loadTimer.unref()
  const logDir = join(repoRoot(), '.run', `chaos-${plan.runId}`)
  // Every long wait races this, so an abort reaches the cleanup below at once.
  const aborted = new Promise<never>((_resolve, reject) => {
    const abort = (): void => reject(new Error('chaos run aborted'))
    if (options.signal?.aborted === true) abort()
    options.signal?.addEventListener('abort', abort, { once: true })
  })
  aborted.catch(() => undefined)
  const orAbort = async <T>(work: Promise<T>): Promise<T> => await Promise.race([work, aborted])
  // Set once the run stops (done, failed or aborted): the waits still polling end, and nothing new starts.
  let closing = false
  let outageTimer: NodeJS.Timeout | undefined
  const over = (): boolean => closing || options.signal?.aborted === true
  const dispatchers: DispatcherProcess[] = []
  try {
    await mkdir(logDir, { recursive: true })
    const { registryUrl } = await testStack()
    log(`run ${plan.runId}: ${options.events} events over ${options.accounts} accounts, ${options.partitions} partitions; starting a broker of its own`)
    const kafka: PrivateKafka = await startPrivateKafka()
    cleanups.unshift(['stop the private broker', () => kafka.close()])
    const brokers = kafka.brokers
    const source = uniqueTopic('chaos-src')
    await createTestTopics([{ topic: source, numPartitions: options.partitions }], { brokers })

    const secret = generateSecret()
    const behaviours: Record<string, EndpointBehaviour> = { 'sub-all': 'ok', 'sub-outage': 'outage', 'sub-flaky': 'flaky' }
    const rx = await startChaosReceiver(plan, secret, SUBSCRIPTIONS.map((s) => ({ ...s, behaviour: behaviours[s.id] ?? 'ok' })))
    cleanups.unshift(['stop the receivers', () => rx.close()])
    const subscriptionsFile = await writeSubscriptionsFile(SUBSCRIPTIONS.map((s) => ({
      id: s.id, tenantId: TENANT, url: rx.endpoints.get(s.id)?.url as string, eventTypes: s.eventTypes, secrets: [secret]
    })))
    cleanups.unshift(['remove the subscriptions file', () => rm(dirname(subscriptionsFile), { recursive: true, force: true })])

    const env = {
      KAFKA_BROKERS: brokers.join(','),
      SOURCE_TOPICS: source,
      DEAD_LETTER_TOPIC: uniqueTopic('chaos-dlq'),
      KAFKA_GROUP_ID: `chaos-${randomUUID()}`,
      SUBSCRIPTIONS_FILE: subscriptionsFile,
      MAX_IN_FLIGHT: '256',
      ENDPOINT_MAX_IN_FLIGHT: '128',
      COMMIT_INTERVAL_MS: '1000',
      RETRY_SCHEDULE_MS: '1000,2000,5000',
      DELIVERY_TIMEOUT_MS: '5000',
      // The outage endpoint's circuit opens and probes every second or so;
      // the 10 % 500s of sub-flaky never open theirs.
      CIRCUIT_FAILURE_THRESHOLD: '10000',
      CIRCUIT_OPEN_MS: '1000',
      LOG_LEVEL: 'warn'
    }
    const startOne = async (): Promise<DispatcherProcess> => {
      if (over()) throw new Error('chaos run stopped')
      const d = await startDispatcher(env)
      dispatchers.push(d)
      return d
    }
    const faults: FaultRecord[] = []
    let primary = await startOne()
    let secondary: DispatcherProcess | undefined

    const producer = await connectProducer(brokers)
    cleanups.unshift(['disconnect the producer', () => producer.disconnect()])
    const codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl }) })
    let producedAfterMs = 0
    const production = produce(plan, producer, source, codec, options.produceRatePerSecond, log, options.signal).then(() => {
      producedAfterMs = elapsed()
      log(`all ${options.events} events produced after ${(producedAfterMs / 1000).toFixed(1)} s`)
    })
    production.catch(() => undefined)

    const all = rx.endpoints.get('sub-all')
    const progress = (): number => (all?.tally.firsts ?? 0) / (all?.tally.expected ?? 1)
    let outage: Promise<void> = Promise.resolve()
    const stopping = new Set<DispatcherProcess>()
    const restart = async (victim: DispatcherProcess): Promise<DispatcherProcess> => {
      stopping.add(victim)
      victim.kill('SIGKILL')
      await victim.exited
      return await startOne()
    }
    // As an orchestrator would: a dispatcher that exits by itself (kafkajs
    // gave up while the broker was away: WHD_ERR_KAFKA_CRASH) is started again.
    const supervise = async (): Promise<void> => {
      if (over()) return
      for (const d of [primary, secondary]) {
        if (d === undefined || stopping.has(d) || (d.child.exitCode === null && d.child.signalCode === null)) continue
        stopping.add(d)
        log(`a dispatcher exited by itself (${d.child.exitCode ?? d.child.signalCode ?? '?'}); starting another`)
        faults.push({ name: `dispatcher exited by itself (${d.child.exitCode ?? d.child.signalCode ?? '?'}), restarted`, at: elapsed(), progress: progress(), tookMs: 0 })
        const next = await startOne()
        if (d === primary) primary = next
        else secondary = next
      }
    }
    // Deadlines only bound the waiting: generous, for a loaded machine.
    const phaseTimeoutMs = Math.max(180_000, options.events * 5)
    for (const fault of FAULT_PLAN) {
      await orAbort(waitUntil(`${Math.round(fault.at * 100)} % of sub-all delivered (${fault.name})`, async () => {
        await supervise()
        return progress() >= fault.at || over()
      }, { timeoutMs: phaseTimeoutMs, intervalMs: 100 }))
      const at = elapsed()
      const atProgress = progress()
      rx.setPhase(fault.name)
      log(`fault: ${fault.name} at ${(at / 1000).toFixed(1)} s, ${(atProgress * 100).toFixed(1)} % delivered`)
      switch (fault.name) {
        case 'endpoint outage (sub-outage answers 503)':
          rx.setDown('sub-outage', true)
          // The outage lasts its time whatever else happens meanwhile.
          outage = new Promise<void>((resolve) => { outageTimer = setTimeout(resolve, options.outageMs) }).then(() => {
            rx.setDown('sub-outage', false)
            log(`sub-outage's endpoint is back after ${(options.outageMs / 1000).toFixed(0)} s`)
          })
          break
        case 'kill -9 dispatcher #1':
        case 'kill -9 dispatcher #2':
        case 'kill -9 dispatcher #3':
          primary = await restart(primary)
          break
        case 'broker stop and start': {
          const d = primary
          const failuresBefore = await readMetric(d.metricsUrl, 'webhooks_commit_failures_total').catch(() => 0)
          await kafka.stop('SIGTERM')
          await waitUntil('the dispatcher meets the broker outage', async () =>
            (await readMetric(d.metricsUrl, 'webhooks_commit_failures_total')) > failuresBefore || /ECONNREFUSED|Connection error|KafkaJSConnectionError/i.test(d.output()), { timeoutMs: 60_000, intervalMs: 200 })
          await kafka.start()
          break
        }
        case 'second dispatcher joins':
          secondary = await startOne()
          break
        case 'second dispatcher leaves (SIGTERM)': {
          const leaving = secondary as DispatcherProcess
          stopping.add(leaving)
          leaving.kill('SIGTERM')
          const code = await leaving.exited
          if (code !== 0) log(`the leaving dispatcher exited with ${code}`)
          secondary = undefined
          break
        }
      }
      faults.push({ name: fault.name, at, progress: atProgress, tookMs: elapsed() - at })
    }
    // Duplicates from here on are still the last fault's (its restart's) doing.
    await orAbort(production)
    await orAbort(outage)
    const endpoints = [...rx.endpoints.values()]
    await orAbort(waitUntil('every event at every endpoint', async () => {
      await supervise()
      return endpoints.every((e) => e.complete()) || over()
    }, { timeoutMs: options.settleTimeoutMs, intervalMs: 500 })
      .catch((err: unknown) => log(`${(err as Error).message}; reporting what arrived`)))

    // A clean stop, as an orchestrator would: C7 says it duplicates nothing.
    const finalExitCodes: Array<number | null> = []
    for (const d of [primary, secondary]) {
      if (d === undefined) continue
      stopping.add(d)
      d.kill('SIGTERM')
      finalExitCodes.push(await d.exited)
    }
    return report(options, plan, started, producedAfterMs, faults, endpoints.map((e) => e.tally), endpoints.reduce((n, e) => n + e.missing(), 0), loads, finalExitCodes, logDir)
  } finally {
    closing = true
    clearInterval(loadTimer)
    clearTimeout(outageTimer)
    for (const d of dispatchers) {
      if (d.child.exitCode === null && d.child.signalCode === null) d.kill('SIGKILL')
    }
    await Promise.all(dispatchers.map(async (d) => await d.exited))
    await Promise.all(dispatchers.map(async (d, n) => await writeFile(join(logDir, `dispatcher-${n + 1}.log`), d.output()).catch(() => undefined)))
    for (const [name, step] of cleanups) {
      try {
        await step()
      } catch (err) {
        log(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }
}

async function connectProducer (brokers: string[]): Promise<Producer> {
  registerKafkaCodecs()
  // Quiet: while the broker is stopped its sends fail, and produce() retries them.
  const kafka = new Kafka({ brokers, clientId: 'chaos-producer', logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  return producer
}

/**
 * Produces every event in order, `BATCH` at a time, keyed by account, each
 * batch acknowledged (acks=all) before the next: an account's events reach
 * its partition in accountSequence order. A batch that fails (the broker is
 * stopped) is sent again until it is acknowledged; the idempotent producer
 * keeps a retry from writing it twice in the common case, and a copy that
 * does get written is a duplicate the receivers count, never a gap.
 */
async function produce (plan: EventPlan, producer: Producer, topic: string, codec: ReturnType<typeof createEventCodec>, ratePerSecond: number, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const now = new Date()
  // The first event goes through the codec (validation, schema registration); the rest reuse its schema id.
  const schemaId = (await codec.encode('transactions', chaosEvent(plan, 0, now), { topic })).readInt32BE(1)
  const type = familyType('transactions')
  const started = Date.now()
  const stopped = (): boolean => signal?.aborted === true
  for (let start = 0; start < plan.events && !stopped(); start += BATCH) {
    const end = Math.min(plan.events, start + BATCH)
    const messages = []
    for (let i = start; i < end; i++) {
      messages.push({ key: accountId(accountOf(plan, i)), value: frameWire(schemaId, type.toBuffer(chaosEvent(plan, i, now))) })
    }
    for (let attempt = 1; !stopped(); attempt++) {
      try {
        await producer.send({ topic, acks: -1, messages })
        break
      } catch (err) {
        if (attempt === 1 || attempt % 20 === 0) log(`produce: batch at ${start} failed (${(err as Error).message}); retrying`)
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    if (ratePerSecond > 0) {
      const due = started + (end / ratePerSecond) * 1000
      const wait = due - Date.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}

function report (options: ChaosOptions, plan: EventPlan, started: number, producedAfterMs: number, faults: FaultRecord[], endpoints: EndpointTally[], lost: number, loads: number[], finalExitCodes: Array<number | null>, logDir: string): ChaosReport {
  loads.push(loadavg()[0] as number)
  const duplicatesByPhase: Record<string, number> = {}
  for (const e of endpoints) {
    for (const [phase, n] of Object.entries(e.duplicatesByPhase)) duplicatesByPhase[phase] = (duplicatesByPhase[phase] ?? 0) + n
  }
  const firsts = endpoints.reduce((n, e) => n + e.firsts, 0)
  const from = Math.min(...endpoints.map((e) => e.firstReceiptAt ?? Infinity))
  const to = Math.max(...endpoints.map((e) => e.lastFirstReceiptAt ?? -Infinity))
  const cpu = cpus()
  const { log: _log, ...settings } = options
  return {
    options: settings,
    machine: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`,
    startedAt: new Date(started).toISOString(),
    runSeconds: (Date.now() - started) / 1000,
    producedAfterMs,
    faults,
    endpoints,
    lost,
    orderViolations: endpoints.reduce((n, e) => n + e.orderViolations, 0),
    duplicates: Object.values(duplicatesByPhase).reduce((a, b) => a + b, 0),
    duplicatesByPhase,
    badSignatures: endpoints.reduce((n, e) => n + e.badSignatures, 0),
    unexpected: endpoints.reduce((n, e) => n + e.unexpected, 0),
    deliveriesPerSecond: to > from ? firsts / ((to - from) / 1000) : 0,
    load: { atStart: loads[0] as number, atEnd: loads[loads.length - 1] as number, max: Math.max(...loads), mean: loads.reduce((a, b) => a + b, 0) / loads.length },
    finalExitCodes,
    logDir: logDir.replace(`${repoRoot()}/`, '')
  }
}
