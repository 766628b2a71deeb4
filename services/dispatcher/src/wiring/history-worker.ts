// A history thread, in one of two roles: the writer puts the recorded
// attempts on the attempts topic (commits wait for it), the indexer reads the
// topic into the store. Each on a thread of its own: they take little from
// the delivery thread (bench/history.md), and indexing never holds up the
// writes that commits wait for. Started by wiring/history.ts; it reads the
// same environment as the dispatcher.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { ensureSchema, JavaCompatiblePartitioner, kafkaCompressionType, quietKafkajsTimerWarning } from '../../../events/src/index.js'
import type { AttemptEntry } from '../engine/attempt-log.js'
import { unpackAttempt } from './attempt-pack.js'
import { attemptSchemaString } from '../history/attempt-codec.js'
import { loadConfig } from '../config.js'
import { KafkaAttemptLog } from '../kafka/attempt-log.js'
import { HistoryIndexer } from '../kafka/history-indexer.js'
import { createLogger } from '../logger.js'
import { openHistoryStore } from './history-store.js'
import { collectGarbage } from '../memory/collect.js'
import { createKafkaClient } from './kafka-client.js'
import { niceThisThread } from './thread-priority.js'
import type { FromHistoryThread, HistoryMetricsReport, HistoryThreadRole, ToHistoryThread } from './history-messages.js'

/** The indexer thread's nice value (Linux): it yields to deliveries, and still runs whenever a core is idle. */
const INDEXER_NICE = 10

if (parentPort === null) throw new Error('history-worker.js runs as a worker thread of the dispatcher')
const port: MessagePort = parentPort
const post = (message: FromHistoryThread): void => { port.postMessage(message) }

async function run (): Promise<void> {
  quietKafkajsTimerWarning()
  const role = (workerData as { role: HistoryThreadRole }).role
  // The indexer is background work: nothing waits for it but the query
  // API, and on a busy machine it should take the cycles deliveries leave.
  // The writer keeps its priority: commits wait for it (DESIGN §10).
  const niced = role === 'indexer' && niceThisThread(INDEXER_NICE)
  const config = loadConfig()
  const log = createLogger(config.logLevel).child({ module: 'history', thread: role })
  if (niced) log.debug({ nice: INDEXER_NICE }, 'indexer thread runs at a lower priority')
  const kafka = createKafkaClient(config, log)

  let report: HistoryMetricsReport = { records: {}, writeFailures: 0, indexed: 0, pruned: 0 }
  const metrics = {
    historyRecords: { inc: ({ outcome }: { outcome: string }, value = 1) => { report.records[outcome] = (report.records[outcome] ?? 0) + value } },
    historyWriteFailures: { inc: () => { report.writeFailures++ } },
    historyIndexed: { inc: (value = 1) => { report.indexed += value } },
    historyPruned: { inc: (value = 1) => { report.pruned += value } },
    historyIndexerLag: { set: (value: number) => { report.lag = value } },
    historyIndexRows: { set: (value: number) => { report.rows = value } }
  }
  const reporter = setInterval(() => {
    post({ type: 'metrics', report })
    report = { records: {}, writeFailures: 0, indexed: 0, pruned: 0 }
  }, 1000)

  const producer = role === 'writer' ? kafka.producer({ allowAutoTopicCreation: false, createPartitioner: JavaCompatiblePartitioner }) : undefined
  await producer?.connect()
  // The schema is registered here, not before start-up: the dispatcher
  // starts, and waits, while the registry is unreachable (C5). Entries
  // recorded meanwhile queue; commits wait for them.
  let writer: KafkaAttemptLog | undefined
  let waiting: AttemptEntry[] = []
  let closed = false
  const registered = (async () => {
    for (let attempt = 1; producer !== undefined && !closed; attempt++) {
      try {
        const { id: schemaId } = await ensureSchema({ url: config.schemaRegistryUrl }, `${config.historyTopic}-value`, attemptSchemaString(), { compatibility: 'BACKWARD' })
        log.info({ topic: config.historyTopic, schemaId }, 'attempt schema registered')
        writer = new KafkaAttemptLog({
          producer,
          topic: config.historyTopic,
          compression: kafkaCompressionType(config.kafkaCompression),
          schemaId,
          metrics,
          log,
          onAcknowledged: (count) => { post({ type: 'acked', count }) }
        })
        for (const entry of waiting) writer.record(entry)
        waiting = []
        return
      } catch (err) {
        log.warn({ err, attempt }, 'cannot register the attempt schema yet; history records wait (and so do offset commits)')
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 250 * 2 ** Math.min(attempt, 6))))
      }
    }
  })()
  const store = role === 'writer' || config.historyStore === 'none' ? undefined : await openHistoryStore(config)
  const indexer = store === undefined
    ? undefined
    : new HistoryIndexer({
      kafka,
      topic: config.historyTopic,
      store,
      groupIdPrefix: config.consumerGroupId,
      registryUrl: config.schemaRegistryUrl,
      retentionMs: config.historyRetentionDays * 86_400_000,
      metrics,
      log
    })

  port.on('message', (message: ToHistoryThread) => {
    if (message.type === 'collect-garbage') {
      collectGarbage().then(() => { post({ type: 'collected' }) }, (err: unknown) => {
        log.warn({ err }, 'memory-reducing collection failed')
        post({ type: 'collected' })
      })
      return
    }
    if (message.type === 'entries') {
      for (const packed of message.entries) {
        const entry = unpackAttempt(packed)
        if (writer === undefined) waiting.push(entry)
        else writer.record(entry)
      }
      return
    }
    void (async () => {
      // What the dispatcher's last commit waited for is written; this is
      // whatever was recorded after it (a late outcome), bounded by the deadline.
      const started = performance.now()
      const step = (name: string): void => { log.debug({ step: name, ms: Math.round(performance.now() - started) }, 'history thread closing') }
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise((resolve) => { timer = setTimeout(resolve, Math.max(0, message.deadline - Date.now())) })
      await Promise.race([registered.then(async () => await writer?.flush()), deadline]).catch(() => undefined)
      // A pending timer would keep the thread alive, and shutdown waiting for
      // its exit, until the deadline even when everything was written at once.
      clearTimeout(timer)
      step('written')
      closed = true
      writer?.close()
      clearInterval(reporter)
      post({ type: 'metrics', report })
      await indexer?.close()
      step('indexer closed')
      await store?.close()
      await producer?.disconnect().catch(() => undefined)
      step('producer closed')
      post({ type: 'closed' })
      port.close()
    })()
  })
  await indexer?.start()
  post({ type: 'ready' })
}

run().catch((err: unknown) => {
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
})
