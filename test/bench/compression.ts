// `make bench-compression`: what each Kafka codec costs and saves, measured
// side by side in one run: the simulator's events written through the
// producer library with each codec (events/s produced), read back and
// decoded as the dispatcher reads them (events/s consumed), and the bytes
// the broker stores per event. Writes bench/compression.md and prints it.
//
// Settings: BENCH_CODEC_EVENTS (40000), BENCH_CODEC_ROUNDS (2; the report
// keeps each measure's best). Traffic stays on loopback.
import { randomUUID } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { dirname } from 'node:path'
import {
  compressionNames, createEventCodec, createEventRegistry, deleteSubject, type CompressionName, type FamilyName
} from '../../services/events/src/index.js'
import { createBankingProducer, createSimulator } from '../../services/producer/src/index.js'
import { createTestTopics, testKafka } from '../support/kafka.js'
import { storedBatches } from '../support/log-segments.js'
import { testStack } from '../support/stack.js'
import { waitUntil } from '../support/wait.js'

const PARTITIONS = 12
const BATCH = 1000

function positive (variable: string, fallback: number): number {
  const raw = process.env[variable]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${variable} must be a positive integer, got "${raw}"`)
  return value
}

interface Measure { produced: number, consumed: number, bytesPerEvent: number }

async function measure (codecName: CompressionName, events: number, registryUrl: string): Promise<Measure> {
  const run = `${codecName}-${randomUUID().slice(0, 8)}`
  const topics: Record<FamilyName, string> = { transactions: `bench-codec-tx-${run}`, accounts: `bench-codec-acc-${run}`, fraud: `bench-codec-fraud-${run}` }
  const { cleanup } = await createTestTopics(Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })))
  const kafka = await testKafka('bench-compression')
  try {
    const producer = createBankingProducer({ kafka, registry: createEventRegistry({ url: registryUrl }), topics, compression: codecName, maxBatchSize: BATCH })
    await producer.connect()
    const simulator = createSimulator({ tenants: 5, accounts: 2000, seed: 7 })
    const batches = Array.from({ length: Math.ceil(events / BATCH) }, (_, b) =>
      Array.from({ length: Math.min(BATCH, events - b * BATCH) }, (_, i) => simulator.next(new Date(Date.parse('2026-12-01T00:00:00Z') + b * BATCH + i))))
    const produceStart = performance.now()
    for (const batch of batches) await producer.publishMany(batch)
    const produced = events / ((performance.now() - produceStart) / 1000)
    await producer.disconnect()

    // Consumed as the dispatcher consumes: eachBatch, every record decoded through the registry codec.
    const codec = createEventCodec({ registry: createEventRegistry({ url: registryUrl }) })
    const consumer = kafka.consumer({ groupId: `bench-codec-${run}`, maxWaitTimeInMs: 250 })
    let decoded = 0
    let joinedAt: number | undefined
    consumer.on(consumer.events.GROUP_JOIN, () => { joinedAt ??= performance.now() })
    await consumer.connect()
    await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          await codec.decode(message.value)
          decoded++
        }
      }
    })
    await waitUntil(`${events} events consumed (${codecName})`, () => decoded >= events, { timeoutMs: 300_000, intervalMs: 20 })
    const consumed = events / ((performance.now() - (joinedAt ?? 0)) / 1000)
    await consumer.disconnect()

    let bytes = 0
    for (const topic of Object.values(topics)) {
      for (let p = 0; p < PARTITIONS; p++) bytes += (await storedBatches(topic, p)).reduce((n, b) => n + b.length, 0)
    }
    await Promise.all(Object.values(topics).map(async (topic) => await deleteSubject({ url: registryUrl }, `${topic}-value`).catch(() => undefined)))
    return { produced, consumed, bytesPerEvent: bytes / events }
  } finally {
    await cleanup()
  }
}

async function main (): Promise<void> {
  const events = positive('BENCH_CODEC_EVENTS', 40_000)
  const rounds = positive('BENCH_CODEC_ROUNDS', 2)
  const { registryUrl } = await testStack()
  const best = new Map<CompressionName, Measure>()
  for (let round = 1; round <= rounds; round++) {
    // Interleaved, so a burst of load elsewhere does not fall on one codec only.
    for (const name of compressionNames) {
      const m = await measure(name, events, registryUrl)
      process.stderr.write(`[bench-compression] round ${round} ${name}: ${m.produced.toFixed(0)} produced/s, ${m.consumed.toFixed(0)} consumed/s, ${m.bytesPerEvent.toFixed(0)} B/event\n`)
      const prior = best.get(name)
      best.set(name, prior === undefined ? m : { produced: Math.max(prior.produced, m.produced), consumed: Math.max(prior.consumed, m.consumed), bytesPerEvent: m.bytesPerEvent })
    }
  }
  const none = best.get('none') as Measure
  const rows = compressionNames.map((name) => {
    const m = best.get(name) as Measure
    return `| ${name} | ${m.produced.toFixed(0)} | ${m.consumed.toFixed(0)} | ${m.bytesPerEvent.toFixed(0)} | ${(m.bytesPerEvent / none.bytesPerEvent * 100).toFixed(0)} % |`
  })
  const table = [
    `Simulator events (three families, 12 partitions each), ${events} per codec, best of ${rounds} interleaved rounds; ${cpus().length} cores, Node ${process.version}, one local broker.`,
    '',
    '| Codec | Produced (events/s) | Consumed + decoded (events/s) | Stored bytes/event | vs none |',
    '| --- | --: | --: | --: | --: |',
    ...rows,
    ''
  ].join('\n')
  const path = process.env.BENCH_CODEC_RESULTS ?? 'bench/compression.md'
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `# Kafka codecs\n\n${table}`)
  process.stdout.write(`${table}\n`)
}

await main()
