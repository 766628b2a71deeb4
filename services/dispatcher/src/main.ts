// Wires the dispatcher together: config → logger → metrics → subscriptions →
// registry → HTTP deliverer → Kafka runtime → health server → signals.
// No logic lives here.
import { Kafka, logLevel as kafkaLogLevel } from 'kafkajs'
import { createEventCodec, createEventRegistry, quietKafkajsTimerWarning } from '../../events/src/index.js'
import { loadConfig } from './config.js'
import { createHttpDeliverer } from './delivery/http-deliverer.js'
import { createSsrfPolicy } from './delivery/ssrf.js'
import { createHealthServer } from './http/health.js'
import { DispatcherRuntime } from './kafka/consumer.js'
import { createRecordDecoder } from './kafka/decode.js'
import { bootstrapTopics } from './kafka/topics.js'
import { createLogger } from './logger.js'
import { createMetrics } from './metrics.js'
import { installShutdown } from './shutdown.js'
import { FileSubscriptionStore } from './subscriptions/file-store.js'
import { VERSION } from './version.js'

async function main (): Promise<void> {
  quietKafkajsTimerWarning()
  let config
  try {
    config = loadConfig()
  } catch (err) {
    process.stderr.write(`webhook-dispatcher: invalid configuration: ${(err as Error).message}\n`)
    process.exit(78)
  }
  const rootLog = createLogger(config.logLevel)
  const log = rootLog.child({ module: 'main' })
  const metrics = createMetrics()
  const ssrf = createSsrfPolicy({ allowCidrs: config.ssrfAllowCidrs, allowHttp: config.allowHttp })
  if (ssrf.allow.length > 0 || ssrf.allowHttp) {
    log.warn({ allowCidrs: config.ssrfAllowCidrs, allowHttp: config.allowHttp }, 'SSRF protection relaxed: for development and tests only')
  }
  const subscriptions = FileSubscriptionStore.fromFile(config.subscriptionsFile, ssrf)
  const codec = createEventCodec({ registry: createEventRegistry({ url: config.schemaRegistryUrl, autoRegister: false, retries: 2 }) })
  const deliverer = createHttpDeliverer({
    ssrf,
    connectTimeoutMs: config.connectTimeoutMs,
    attemptTimeoutMs: config.deliveryTimeoutMs,
    // The scheduler already caps concurrency per endpoint; a smaller pool
    // would queue requests inside undici, where the wait eats the deadline.
    connectionsPerOrigin: config.endpointMaxInFlight,
    version: VERSION
  })
  const kafka = new Kafka({
    brokers: [...config.kafkaBrokers],
    clientId: config.kafkaClientId,
    logLevel: kafkaLogLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry
      const child = rootLog.child({ module: `kafkajs:${namespace}` })
      if (level <= kafkaLogLevel.ERROR) child.error(rest, message)
      else child.warn(rest, message)
    }
  })

  const admin = kafka.admin()
  await admin.connect()
  const topics = await bootstrapTopics(admin, config, { replicationFactor: config.topicReplicationFactor })
  await admin.disconnect()
  log.info({ created: topics.created, partitions: topics.partitionsBySource }, 'topics ready')

  const runtime = new DispatcherRuntime({
    config,
    kafka,
    decode: createRecordDecoder(codec),
    subscriptions,
    deliver: deliverer.deliver,
    metrics,
    log: rootLog.child({ module: 'dispatcher' }),
    onFatal: (err) => {
      log.fatal({ err }, 'unrecoverable kafka failure; exiting so the orchestrator restarts us')
      process.exit(1)
    }
  })
  const health = createHealthServer({ ready: () => runtime.ready }, metrics.registry)
  await new Promise<void>((resolve) => health.listen(config.httpPort, config.httpHost, resolve))
  const address = health.address()
  log.info({ version: VERSION, port: typeof address === 'object' && address !== null ? address.port : config.httpPort }, 'health and metrics listening')

  installShutdown({
    log: rootLog.child({ module: 'shutdown' }),
    steps: [
      ['dispatcher', () => runtime.close()],
      ['http deliverer', () => deliverer.close()],
      ['health server', () => new Promise<void>((resolve) => health.close(() => resolve()))]
    ]
  })
  await runtime.start()
  log.info({ sourceTopics: config.sourceTopics, group: config.consumerGroupId }, 'dispatcher started')
}

main().catch((err: unknown) => {
  const e = err as { code?: string, message?: string }
  process.stderr.write(`webhook-dispatcher: failed to start: ${e.code === undefined ? '' : `[${e.code}] `}${e.message ?? String(err)}\n`)
  process.exit(1)
})
