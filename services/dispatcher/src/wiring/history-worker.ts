// A history thread, in one of two roles: the writer puts the recorded
// attempts on the attempts topic (commits wait for it), the indexer reads the
// topic into the store. Each on a thread of its own: they take little from
// the delivery thread (bench/history.md), and indexing never holds up the
// writes that commits wait for. Started by wiring/history.ts; it reads the
// same environment as the dispatcher.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { Partitioners } from 'kafkajs'
import { ensureSchema, kafkaCompressionType, quietKafkajsTimerWarning } from '../../../events/src/index.js'
import type { AttemptEntry } from '../engine/attempt-log.js'
import { attemptSchemaString } from '../history/attempt-codec.js'
import { loadConfig } from '../config.js'
import { KafkaAttemptLog } from '../kafka/attempt-log.js'
import { HistoryIndexer } from '../kafka/history-indexer.js'
import { createLogger } from '../logger.js'
import { openHistoryStore } from './history-store.js'
import { createKafkaClient } from './kafka-client.js'
import type { FromHistoryThread, HistoryMetricsReport, HistoryThreadRole, ToHistoryThread } from './history-messages.js'

if (parentPort === null) throw new Error('history-worker.js runs as a worker thread of the dispatcher')
const port: MessagePort = parentPort
const post = (message: FromHistoryThread): void => { port.postMessage(message) }

async function run (): Promise<void> {
  quietKafkajsTimerWarning()
  const role = (workerData as { role: HistoryThreadRole }).role
  const config = loadConfig()
  const log = createLogger(config.logLevel).child({ module: 'history', thread: role })
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

  const producer = role === 'writer' ? kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner }) : undefined
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
    if (message.type === 'entries') {
      if (writer === undefined) waiting.push(...message.entries)
      else for (const entry of message.entries) writer.record(entry)
      return
    }
    void (async () => {
      // What the dispatcher's last commit waited for is written; this is
      // whatever was recorded after it (a late outcome), bounded by the deadline.
      const deadline = new Promise((resolve) => setTimeout(resolve, Math.max(0, message.deadline - Date.now())))
      await Promise.race([registered.then(async () => await writer?.flush()), deadline]).catch(() => undefined)
      closed = true
      writer?.close()
      clearInterval(reporter)
      post({ type: 'metrics', report })
      await indexer?.close()
      await store?.close()
      await producer?.disconnect().catch(() => undefined)
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
