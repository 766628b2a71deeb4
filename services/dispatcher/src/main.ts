// Wires the dispatcher together: config → logger → metrics → registry →
// HTTP deliverer → Kafka → subscriptions → runtime → health and admin
// servers → signals.
// No logic lives here.
import { readFileSync } from 'node:fs'
import { getHeapStatistics } from 'node:v8'
import { createEventCodec, createEventRegistry, kafkaCompressionType, quietKafkajsTimerWarning } from '../../events/src/index.js'
import { loadConfig } from './config.js'
import { ConfigError, exitCode, UndecodableBatchError } from './errors.js'
import { createHttpDeliverer } from './delivery/http-deliverer.js'
import { checkEndpointUrl, createSsrfPolicy } from './delivery/ssrf.js'
import { RateLimiter } from './engine/rate-limiter.js'
import { createHealthServer } from './http/health.js'
import { DispatcherRuntime } from './kafka/consumer.js'
import { createRecordDecoder } from './kafka/decode.js'
import { isTransientKafkaError } from './kafka/kafkajs-log.js'
import { bootstrapTopics } from './kafka/topics.js'
import { createLogger, reportConfigError } from './logger.js'
import { createMetrics } from './metrics.js'
import { createShutdown, installProcessHandlers, SHUTDOWN_FINISH_MS, type ShutdownCause } from './shutdown.js'
import { importSubscriptionsFile } from './cli/import-subscriptions.js'
import { createAdminApi, startAdminServer } from './http/admin-api.js'
import { KafkaPortalLedger } from './kafka/portal-ledger.js'
import { createTestEventSender } from './http/admin/test-event.js'
import { createKafkaDeadLetters } from './redrive/kafka-dead-letters.js'
import { createSecretCipher } from './subscriptions/crypto.js'
import { announcingEnableChanges, watchHeldReleases } from './subscriptions/endpoint-transitions.js'
import { recordRefusalReason, TopicSubscriptionStore } from './subscriptions/topic-store.js'
import { VERSION } from './version.js'
import { setUpHistory } from './wiring/history.js'
import { mainHeapAdvice, memoryLimitOfThisProcess } from './memory/heap-limits.js'
import { startMemoryReducer } from './memory/reducer.js'
import { createResender } from './wiring/resend.js'
import { setUpReplays } from './wiring/replay.js'
import { createKafkaClient } from './wiring/kafka-client.js'

async function main (): Promise<void> {
  quietKafkajsTimerWarning()
  let config
  try {
    config = loadConfig()
  } catch (err) {
    reportConfigError(err)
    process.exit(exitCode('dispatcher', 'invalid configuration'))
  }
  const rootLog = createLogger(config.logLevel)
  const log = rootLog.child({ module: 'main' })
  // Filled in once every part to close exists; a fatal error before that exits at once.
  const shutdown: { run?: (cause: ShutdownCause) => Promise<void> } = {}
  installProcessHandlers(rootLog.child({ module: 'shutdown' }), () => shutdown.run)
  const heapAdvice = mainHeapAdvice(memoryLimitOfThisProcess(), getHeapStatistics().heap_size_limit)
  if (heapAdvice !== undefined) {
    log.warn(heapAdvice, `the main thread's heap may grow to ${heapAdvice.heapLimitMib} MiB under a ${heapAdvice.limitMib} MiB memory limit, more than a burst of parked deliveries leaves room for: start node with NODE_OPTIONS=${heapAdvice.flag} (the Helm chart does; README: Container image and Kubernetes)`)
  }
  const metrics = createMetrics()
  const ssrf = createSsrfPolicy({ allowCidrs: config.ssrfAllowCidrs, allowHttp: config.allowHttp })
  if (ssrf.allow.length > 0 || ssrf.allowHttp) {
    log.warn({ allowCidrs: config.ssrfAllowCidrs, allowHttp: config.allowHttp }, 'SSRF protection relaxed: for development and tests only')
  }
  const codec = createEventCodec({ registry: createEventRegistry({ url: config.schemaRegistryUrl, autoRegister: false, retries: 2 }) })
  const deliverer = createHttpDeliverer({
    ssrf,
    connectTimeoutMs: config.connectTimeoutMs,
    attemptTimeoutMs: config.deliveryTimeoutMs,
    // Live and retry deliveries go through a pool per endpoint sized by its
    // cap, replays through one per job (DeliveryRequest.pool). This shared
    // pool per origin carries only test events and resends.
    connectionsPerOrigin: config.endpointMaxInFlight,
    maxPools: config.deliveryMaxPools,
    version: config.userAgentVersion ? VERSION : false,
    ...(config.webhookProxyUrl === undefined ? {} : { proxy: new URL(config.webhookProxyUrl) })
  })
  const compression = kafkaCompressionType(config.kafkaCompression)
  const kafka = createKafkaClient(config, rootLog)

  const admin = kafka.admin()
  await admin.connect()
  const topics = await bootstrapTopics(admin, config, { replicationFactor: config.topicReplicationFactor })
  const decode = createRecordDecoder(codec)
  const history = await setUpHistory({
    config, kafka, admin, decode, metrics, log: rootLog.child({ module: 'history' }),
    onFatal: (err) => {
      log.fatal({ err }, 'the history thread stopped; exiting so the orchestrator restarts us')
      process.exit(1)
    }
  })
  await admin.disconnect()
  log.info({ created: topics.created, partitions: topics.partitionsBySource }, 'topics ready')

  const subscriptionsLog = rootLog.child({ module: 'subscriptions' })
  const subscriptions = new TopicSubscriptionStore({
    kafka,
    cipher: createSecretCipher(config.secretsEncryptionKeys.keys, config.secretsEncryptionKeys.currentId),
    ssrf,
    topic: config.subscriptionsTopic,
    partitions: config.subscriptionsTopicPartitions,
    replicationFactor: config.topicReplicationFactor,
    compression,
    groupIdPrefix: `${config.consumerGroupId}-subscriptions`,
    acceptUnsignedRecords: config.subscriptionsAcceptUnsignedRecords,
    onError: (err, context) => {
      if (context.fatal === true) {
        subscriptionsLog.fatal({ err, ...context }, 'subscription store stopped following its topic; exiting so the orchestrator restarts us')
        process.exit(exitCode('dispatcher', 'fatal'))
      }
      if ((err as { code?: string }).code === UndecodableBatchError.code) {
        metrics.undecodableBatches.inc({ reader: 'subscriptions', codec: (err as UndecodableBatchError).codec })
      }
      const refused = recordRefusalReason(err)
      if (refused !== undefined) metrics.subscriptionRecordsRefused.inc({ reason: refused })
      // Errors of the store never hold secrets (record.ts, crypto.ts). A
      // restart on a transient broker answer (a fresh broker's group
      // coordinator still loading) is expected, not an error.
      const level = isTransientKafkaError(err) ? 'info' : 'error'
      subscriptionsLog[level]({ err, ...context, ...(refused === undefined ? {} : { refused }) }, 'subscription store error')
    }
  })
  metrics.bind({ stoppedSubscriptionPartitions: () => subscriptions.stoppedPartitions, quarantinedSubscriptions: () => subscriptions.quarantined })
  // Every subscription is known before the first record is consumed.
  await subscriptions.start()
  if (config.subscriptionsFile !== undefined) {
    const imported = await importSubscriptionsFile(subscriptions, config.subscriptionsFile, ssrf)
    log.info({ file: config.subscriptionsFile, created: imported.created.length, updated: imported.updated.length, unchanged: imported.unchanged.length }, 'subscriptions file imported')
  }
  log.info({ topic: subscriptions.topic, subscriptions: subscriptions.all().length }, 'subscriptions loaded')
  if (subscriptions.quarantined > 0) {
    log.warn({ quarantined: subscriptions.quarantined }, 'endpoints quarantined: their records cannot be verified or decrypted with SECRETS_ENCRYPTION_KEYS; their events are dead-lettered as endpoint-quarantined (README: Operations)')
  }

  // One token bucket per endpoint for live deliveries and replays together.
  const rateLimiter = new RateLimiter()
  const runtime = new DispatcherRuntime({
    config,
    kafka,
    decode,
    subscriptions,
    deliver: deliverer.deliver,
    metrics,
    log: rootLog.child({ module: 'dispatcher' }),
    onFatal: (err) => {
      log.fatal({ err }, 'unrecoverable kafka failure; exiting so the orchestrator restarts us')
      process.exit(exitCode('dispatcher', 'fatal'))
    },
    ...(history.log === undefined ? {} : { history: history.log }),
    rateLimiter,
    abortDeliveries: deliverer.abortInFlight
  })
  watchHeldReleases(subscriptions, (id) => runtime.resumeEndpoint(id))
  // Used links and revoked sessions, shared by every instance through a topic.
  const portalLedger = config.portalSessionKey === undefined
    ? undefined
    : new KafkaPortalLedger({ kafka, topic: config.portalSessionsTopic, replicationFactor: config.topicReplicationFactor, compression })
  await portalLedger?.start()
  const replays = await setUpReplays({
    config, kafka, compression, decode, subscriptions, deliver: deliverer.deliver, history: history.log, store: history.api?.store, metrics, rateLimiter, log: rootLog.child({ module: 'replay' })
  })
  const adminApi = createAdminApi({
    store: announcingEnableChanges(subscriptions, (type, subscription, reason) => { void runtime.operatorChangedEndpoint(type, subscription, reason) }),
    tokens: config.adminTokens,
    deadLetters: createKafkaDeadLetters({ kafka, deadLetterTopic: config.deadLetterTopic, stateTopic: config.deadLetterStateTopic, retryTopicSuffix: config.retryTopicSuffix, compression }),
    sendTestEvent: createTestEventSender({ deliver: deliverer.deliver }),
    endpointStatus: (id) => runtime.endpointStatus(id),
    ...(history.api === undefined ? {} : { history: history.api }),
    replays: replays.operations,
    resend: createResender({ readEvent: history.readEvent, deliver: deliverer.deliver, history: history.log, deliveryTimeoutMs: config.deliveryTimeoutMs }),
    probeEndpoint: (id) => { runtime.resumeEndpoint(id) },
    ssrfCheck: (url) => checkEndpointUrl(url, ssrf),
    ...(config.portalSessionKey === undefined || portalLedger === undefined
      ? {}
      : {
          portal: {
            key: config.portalSessionKey,
            ledger: portalLedger,
            linkTtlSeconds: config.portalLinkTtlSeconds,
            sessionTtlSeconds: config.portalSessionTtlSeconds,
            secureCookie: config.adminTlsCertFile !== undefined,
            ...(config.portalPublicUrl === undefined ? {} : { publicUrl: config.portalPublicUrl })
          }
        }),
    // createAdminApi adds module: admin-api.
    logger: rootLog,
    quotas: {
      maxEndpointsPerTenant: config.adminMaxEndpointsPerTenant,
      testEventsPerMinute: config.adminTestEventsPerMinute,
      requestsPerSecond: config.adminRequestsPerSecond,
      requestBurst: config.adminRequestBurst
    },
    connectionLimits: { headersTimeoutMs: config.adminHeadersTimeoutMs, requestTimeoutMs: config.adminRequestTimeoutMs, maxConnections: config.adminMaxConnections },
    ...(config.adminTlsCertFile === undefined || config.adminTlsKeyFile === undefined
      ? {}
      : { tls: { certPem: readFileSync(config.adminTlsCertFile), keyPem: readFileSync(config.adminTlsKeyFile) } })
  })
  if (config.adminTokens.length === 0) log.warn('ADMIN_TOKENS is empty: the admin API refuses every call')
  const adminServer = await startAdminServer(adminApi, { port: config.adminPort, host: config.adminHost })
  log.info({ host: adminServer.host, port: adminServer.port, tls: config.adminTlsCertFile !== undefined }, 'admin API listening')

  // Readiness turns false as the first shutdown step, before anything closes.
  let stopping = false
  const health = createHealthServer({ ready: () => !stopping, started: () => runtime.started, member: () => runtime.ready }, metrics.registry, config.metricsToken === undefined ? {} : { metricsToken: config.metricsToken })
  await new Promise<void>((resolve) => health.listen(config.httpPort, config.httpHost, resolve))
  const address = health.address()
  log.info({ version: VERSION, port: typeof address === 'object' && address !== null ? address.port : config.httpPort }, 'health and metrics listening')

  const memoryReducer = startMemoryReducer({ softLimitBytes: config.memorySoftLimitMib * 2 ** 20, collectElsewhere: () => history.collectGarbage(), metrics, log: rootLog.child({ module: 'memory' }) })
  shutdown.run = createShutdown({
    log: rootLog.child({ module: 'shutdown' }),
    deadlineMs: config.shutdownDeadlineMs + SHUTDOWN_FINISH_MS,
    steps: [
      ['readiness', async () => { stopping = true }],
      ['memory reducer', async () => { memoryReducer.close() }],
      ['admin api', () => adminServer.close()],
      ['portal ledger', async () => { await portalLedger?.close() }],
      // Before the history and the deliverer its deliveries use.
      ['replays', () => replays.close()],
      ['dispatcher', () => runtime.close()],
      // After the dispatcher: its last commit waits for the attempts it settles.
      ['history', () => history.close()],
      // After the runtime: draining may still disable an endpoint.
      ['subscriptions', () => subscriptions.close()],
      ['http deliverer', () => deliverer.close()],
      ['health server', () => new Promise<void>((resolve) => health.close(() => resolve()))]
    ]
  })
  await runtime.start()
  await replays.start()
  log.info({ sourceTopics: config.sourceTopics, group: config.consumerGroupId }, 'dispatcher started')
}

main().catch((err: unknown) => {
  const e = err as { code?: string, message?: string }
  // A configuration the cluster cannot satisfy (TOPIC_REPLICATION_FACTOR
  // above its broker count) is found only once connected; it exits like
  // every configuration error (EX_CONFIG), naming the variable.
  if (e.code === ConfigError.code) {
    process.stderr.write(`webhook-dispatcher: invalid configuration: ${e.message ?? String(err)}\n`)
    process.exit(78)
  }
  process.stderr.write(`webhook-dispatcher: failed to start: ${e.code === undefined ? '' : `[${e.code}] `}${e.message ?? String(err)}\n`)
  process.exit(exitCode('dispatcher', 'fatal'))
})
