/**
 * import-subscriptions: one-shot import of a subscriptions JSON file (the
 * `{ "subscriptions": [ … ] }` format of SUBSCRIPTIONS_FILE) into the
 * compacted subscriptions topic. Idempotent: a subscription whose id is on
 * the topic with the same content is left alone, one that differs is
 * updated, a new one is created; secrets are kept exactly as the file gives
 * them. Optional fields the file leaves out (paused, rate limit, mTLS, …)
 * keep their values on the topic. Nothing is deleted.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 SECRETS_ENCRYPTION_KEYS=k1:<base64 32 bytes> \
 *     node dist/services/dispatcher/src/cli/import-subscriptions.js subscriptions.json
 *
 * Environment: KAFKA_BROKERS (required), SECRETS_ENCRYPTION_KEYS (required),
 * SUBSCRIPTIONS_TOPIC (webhooks.subscriptions), SUBSCRIPTIONS_TOPIC_PARTITIONS
 * (1, when the topic is created), TOPIC_REPLICATION_FACTOR (3),
 * SSRF_ALLOW_CIDRS and ALLOW_HTTP (as for the dispatcher), KAFKA_CLIENT_ID;
 * SUBSCRIPTIONS_FILE when no file argument is given.
 *
 * Prints one line per subscription and a summary to stdout. Exit codes:
 * `exitCodes['import-subscriptions']` in ../errors.ts (tabled in the README).
 */
import { readFileSync } from 'node:fs'
import { Kafka, logLevel } from 'kafkajs'
import { kafkaCompressionType, quietKafkajsTimerWarning, registerKafkaCodecs } from '../../../events/src/index.js'
import { configOptions, type DispatcherConfig } from '../config.js'
import { createSsrfPolicy, type SsrfPolicy } from '../delivery/ssrf.js'
import { ConfigError, exitCode, SubscriptionSourceError } from '../errors.js'
import { secretCipherFromEnv } from '../subscriptions/crypto.js'
import { parseSubscriptions } from '../subscriptions/subscriptions-file.js'
import type { MaterializedSubscriptionStore, UpsertOutcome } from '../subscriptions/memory-store.js'
import { DEFAULT_SUBSCRIPTIONS_TOPIC, TopicSubscriptionStore } from '../subscriptions/topic-store.js'
import type { Subscription } from '../subscriptions/types.js'
import { invokedDirectly } from './invoked-directly.js'

export interface ImportSummary {
  created: string[]
  updated: string[]
  unchanged: string[]
}

/**
 * What to write for a subscription of the file: every field the file gives;
 * for an optional field it leaves out (paused, rate limit, mTLS, …), the
 * value already on the topic.
 */
export function importedSubscription (fromFile: Subscription, existing: Subscription | undefined): Subscription {
  const s: Subscription = { ...existing, ...fromFile, eventTypes: [...fromFile.eventTypes], secrets: [...fromFile.secrets], paused: existing?.paused ?? false }
  delete s.createdAt
  delete s.updatedAt
  // The file gives the endpoint's secrets: its record is written again,
  // signed and readable, which ends a quarantine (README: Operations).
  delete s.quarantined
  // A field the file leaves out keeps the topic's value, even where the parsed entry holds it as undefined.
  for (const key of Object.keys(fromFile) as Array<keyof Subscription>) {
    if (fromFile[key] === undefined && existing?.[key] !== undefined) (s as unknown as Record<string, unknown>)[key] = existing[key]
  }
  if (fromFile.paused !== undefined) s.paused = fromFile.paused
  if (s.enabled) delete s.disabledReason
  else if (existing?.enabled !== false || existing.disabledReason === undefined) s.disabledReason = fromFile.disabledReason ?? 'disabled in the subscriptions file'
  if (s.tls !== undefined) s.tls = { ...s.tls }
  return s
}

/** Writes each subscription through the store (validated as the admin API's writes are), in file order. */
export async function importSubscriptions (
  store: MaterializedSubscriptionStore,
  subscriptions: readonly Subscription[],
  onResult?: (id: string, outcome: UpsertOutcome) => void
): Promise<ImportSummary> {
  const summary: ImportSummary = { created: [], updated: [], unchanged: [] }
  for (const fromFile of subscriptions) {
    const { outcome } = await store.upsert(importedSubscription(fromFile, store.get(fromFile.id)))
    summary[outcome].push(fromFile.id)
    onResult?.(fromFile.id, outcome)
  }
  return summary
}

/**
 * Reads and validates a subscriptions file ({@link parseSubscriptions}).
 * Throws `WHD_ERR_SUBSCRIPTIONS` naming the file, entry and field.
 */
export function readSubscriptionsFile (path: string, ssrf: SsrfPolicy): Subscription[] {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new SubscriptionSourceError(`cannot read subscriptions file ${path}: ${(error as Error).message}`, { cause: error })
  }
  return parseSubscriptions(raw, path, ssrf)
}

/** Imports a subscriptions file; nothing is written when the file is invalid. */
export async function importSubscriptionsFile (store: MaterializedSubscriptionStore, path: string, ssrf: SsrfPolicy): Promise<ImportSummary> {
  return await importSubscriptions(store, readSubscriptionsFile(path, ssrf))
}

function fromConfig<K extends keyof DispatcherConfig> (key: K, env: NodeJS.ProcessEnv): DispatcherConfig[K] {
  const spec = configOptions.find((o) => o.key === key) as unknown as { variable: string, defaultValue: string | undefined, description: string, parse: (raw: string, variable: string) => DispatcherConfig[K] }
  const raw = env[spec.variable] ?? spec.defaultValue
  if (raw === undefined || raw.trim() === '') throw new ConfigError(spec.variable, `is required: ${spec.description}`)
  return spec.parse(raw, spec.variable)
}

function positiveInteger (env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const raw = env[variable]
  if (raw === undefined || raw.trim() === '') return fallback
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new ConfigError(variable, `must be a positive integer, got "${raw}"`)
  return Number(raw)
}

export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
}

/** The command: parses arguments and environment, imports, prints; returns the exit code. */
export async function runImport (argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out('usage: import-subscriptions [subscriptions.json]   (or SUBSCRIPTIONS_FILE); see the header of cli/import-subscriptions.ts for the environment')
    return exitCode('import-subscriptions', 'done')
  }
  let store: TopicSubscriptionStore
  let subscriptions: Subscription[]
  try {
    if (argv.length > 1 || argv.some((a) => a.startsWith('-'))) throw new ConfigError('arguments', `expected one file path, got ${argv.join(' ')}`)
    const file = argv[0] ?? env.SUBSCRIPTIONS_FILE
    if (file === undefined || file.trim() === '') throw new ConfigError('SUBSCRIPTIONS_FILE', 'give the subscriptions file as the argument or in SUBSCRIPTIONS_FILE')
    const ssrf = createSsrfPolicy({ allowCidrs: fromConfig('ssrfAllowCidrs', env), allowHttp: fromConfig('allowHttp', env) })
    subscriptions = readSubscriptionsFile(file, ssrf)
    const cipher = secretCipherFromEnv(env)
    registerKafkaCodecs()
    const kafka = new Kafka({
      brokers: fromConfig('kafkaBrokers', env),
      clientId: env.KAFKA_CLIENT_ID ?? 'webhook-dispatcher-import',
      logLevel: logLevel.ERROR,
      logCreator: () => ({ namespace, log }) => io.err(`kafkajs ${namespace}: ${log.message}`)
    })
    store = new TopicSubscriptionStore({
      kafka,
      cipher,
      ssrf,
      topic: env.SUBSCRIPTIONS_TOPIC?.trim() || DEFAULT_SUBSCRIPTIONS_TOPIC,
      partitions: positiveInteger(env, 'SUBSCRIPTIONS_TOPIC_PARTITIONS', 1),
      replicationFactor: fromConfig('topicReplicationFactor', env),
      compression: kafkaCompressionType(fromConfig('kafkaCompression', env)),
      groupIdPrefix: 'webhook-dispatcher-import',
      onError: (error, context) => io.err(`import-subscriptions: ${context.op}${context.id === undefined ? '' : ` ${context.id}`}: ${(error as Error).message}`)
    })
  } catch (error) {
    const e = error as { code?: string, message?: string }
    if (e.code !== 'WHD_ERR_CONFIG' && e.code !== 'WHD_ERR_SUBSCRIPTIONS' && e.code !== 'WHD_ERR_SECRET_KEY') throw error
    io.err(`import-subscriptions: ${e.message ?? String(error)}`)
    return exitCode('import-subscriptions', 'bad arguments')
  }

  try {
    await store.start()
    const summary = await importSubscriptions(store, subscriptions, (id, outcome) => io.out(`${outcome.padEnd(9)} ${id}`))
    io.out(`${subscriptions.length} subscriptions in the file: ${summary.created.length} created, ${summary.updated.length} updated, ${summary.unchanged.length} unchanged (topic ${store.topic})`)
    return exitCode('import-subscriptions', 'done')
  } catch (error) {
    const e = error as { code?: string, name?: string, message?: string, field?: string }
    const tag = e.code ?? e.name
    io.err(`import-subscriptions failed${tag === undefined ? '' : ` [${tag}]`}: ${e.message ?? String(error)}`)
    return exitCode('import-subscriptions', e.field === undefined ? 'Kafka or store error' : 'bad arguments')
  } finally {
    await store.close()
  }
}

// Run only as a program, not when a test imports the functions above.

if (invokedDirectly(import.meta.url)) {
  quietKafkajsTimerWarning()
  process.exitCode = await runImport(process.argv.slice(2), process.env, {
    out: (line) => { process.stdout.write(`${line}\n`) },
    err: (line) => { process.stderr.write(`${line}\n`) }
  })
}
