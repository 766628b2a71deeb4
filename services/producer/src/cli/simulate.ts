/**
 * The core-banking simulator: publishes generated events through the
 * producer library at a steady rate. Progress goes to stderr once a second,
 * the summary to stdout. SIGINT/SIGTERM stop it after the batch in flight,
 * flush and exit 0; a second signal exits at once.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 SCHEMA_REGISTRY_URL=http://127.0.0.1:18081/apis/ccompat/v7 \
 *     node dist/services/producer/src/cli/simulate.js --rate 100 --count 200
 */
import { randomInt } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Kafka, logLevel } from 'kafkajs'
import { createEventRegistry, FAMILY_NAMES, quietKafkajsTimerWarning, registerKafkaCodecs } from '../../../events/src/index.js'
import { createBankingProducer, type BankingProducer } from '../banking-producer.js'
import { eventsDue, msUntilNextEvent } from '../pacing.js'
import { createSimulator } from '../simulator.js'
import { bankingTopicSpecs, ensureTopics } from '../topics.js'
import { parseSimulateArgs, readSimulateEnv, USAGE, UsageError, type SimulateEnv, type SimulateOptions } from './simulate-options.js'

const MAX_BATCH = 500
const PROGRESS_INTERVAL_MS = 1000

function log (line: string): void {
  process.stderr.write(`[simulate] ${line}\n`)
}

function describeError (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${err.message} [${code}]` : err.message
  }
  return String(err)
}

async function setUp (options: SimulateOptions, env: SimulateEnv): Promise<BankingProducer> {
  registerKafkaCodecs()
  // `topics: {}` is the three-topic layout with every family at its own default topic.
  const layout = options.threeTopics === true ? { topics: {} } : options.topic === undefined ? {} : { topic: options.topic }
  const kafka = new Kafka({ clientId: 'banking-simulator', brokers: env.brokers, logLevel: logLevel.ERROR })
  const admin = kafka.admin()
  try {
    await admin.connect()
    for (const report of await ensureTopics(admin, bankingTopicSpecs({ ...layout, numPartitions: options.partitions }))) {
      const note = report.numPartitions === report.requestedPartitions ? '' : ` (asked for ${report.requestedPartitions}; existing topics are left as they are)`
      log(`topic ${report.topic}: ${report.created ? 'created' : 'exists'}, ${report.numPartitions} partitions${note}`)
    }
  } finally {
    await admin.disconnect()
  }
  const registry = createEventRegistry({ url: env.registryUrl, clientId: 'banking-simulator' })
  const producer = createBankingProducer({ kafka, registry, compression: env.compression, ...layout })
  await producer.connect()
  const ids = await Promise.all(FAMILY_NAMES.map(async (family) =>
    `${producer.layout.subjects[family]}=${await registry.schemaId(family, producer.topics[family], producer.layout.strategies[family])}`))
  log(`schemas registered: ${ids.join(' ')}`)
  return producer
}

async function main (): Promise<number> {
  quietKafkajsTimerWarning()
  let options: SimulateOptions
  let env: SimulateEnv
  try {
    options = parseSimulateArgs(process.argv.slice(2), () => randomInt(2 ** 31))
    if (options.help) {
      console.log(USAGE)
      return 0
    }
    env = readSimulateEnv(process.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`${err.message}\n\n${USAGE}`)
    return 2
  }

  const stop = new AbortController()
  let signals = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++
    if (signals > 1) {
      log(`${signal} again: exiting without flushing`)
      process.exit(130)
    }
    log(`${signal}: finishing the batch in flight, then flushing`)
    stop.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let producer: BankingProducer
  try {
    producer = await setUp(options, env)
  } catch (err) {
    console.error(`simulator could not start (Kafka ${env.brokers.join(',')}, registry ${env.registryUrl}): ${describeError(err)}`)
    return 2
  }

  const simulator = createSimulator({ tenants: options.tenants, accounts: options.accounts, seed: options.seed, mix: options.mix })
  log(`seed ${options.seed}: ${options.tenants} tenants, ${options.accounts} accounts, ${options.rate}/s, ${options.count === 0 ? 'until stopped' : `${options.count} events`}`)
  const started = performance.now()
  let generated = 0
  let sent = 0
  let errors = 0
  let lastError: string | undefined
  let lastReport = { at: started, sent: 0 }
  const progress = setInterval(() => {
    const now = performance.now()
    const rate = ((sent - lastReport.sent) * 1000) / (now - lastReport.at)
    lastReport = { at: now, sent }
    log(`sent=${sent} rate=${rate.toFixed(1)}/s errors=${errors}${lastError === undefined ? '' : ` last error: ${lastError}`}`)
    lastError = undefined
  }, PROGRESS_INTERVAL_MS)

  try {
    while (!stop.signal.aborted && (options.count === 0 || generated < options.count)) {
      const elapsedMs = performance.now() - started
      const due = eventsDue({ elapsedMs, rate: options.rate, generated, count: options.count, maxBatch: MAX_BATCH })
      if (due === 0) {
        await sleep(Math.min(100, msUntilNextEvent({ elapsedMs, rate: options.rate, generated })), undefined, { signal: stop.signal }).catch(() => {})
        continue
      }
      const now = new Date()
      const batch = Array.from({ length: due }, () => simulator.next(now))
      generated += batch.length
      try {
        await producer.publishMany(batch)
        sent += batch.length
      } catch (err) {
        errors += batch.length
        lastError = describeError(err)
      }
    }
  } finally {
    clearInterval(progress)
    await producer.disconnect()
  }

  const seconds = (performance.now() - started) / 1000
  const { byFamily, accountsOpened, accountsClosed } = simulator.stats
  console.log(`simulated ${sent} events in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(1)}/s), ${errors} errors, seed ${options.seed}`)
  console.log(`  ${FAMILY_NAMES.map((family) => `${family} ${byFamily[family]}`).join('  ')}`)
  console.log(`  accounts opened ${accountsOpened}, closed ${accountsClosed}`)
  if (lastError !== undefined) console.error(`last error: ${lastError}`)
  return errors > 0 ? 1 : 0
}

process.exitCode = await main()
