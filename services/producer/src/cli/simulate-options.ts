/**
 * Command line and environment of the simulator, parsed and validated in
 * one place (pure; the CLI passes process.argv and process.env).
 */
import { parseArgs } from 'node:util'
import {
  compressionNames, DEFAULT_KAFKA_COMPRESSION, DEFAULT_SOURCE_TOPIC, FAMILY_NAMES, isFamilyName, parseCompressionName, type CompressionName
} from '../../../events/src/index.js'
import { DEFAULT_MIX, type EventMix } from '../simulator.js'
import { DEFAULT_PARTITIONS } from '../topics.js'

export interface SimulateOptions {
  tenants: number
  accounts: number
  /** Events per second. */
  rate: number
  /** Events to send; 0 = until SIGINT/SIGTERM. */
  count: number
  seed: number
  mix: EventMix
  /** Partitions of topics the simulator creates. */
  partitions: number
  /** The one topic of every family; banking.account-events.v1 when absent. */
  topic?: string
  /** Write the three-topic layout (banking.transactions.v1, …) instead. */
  threeTopics?: true
  help: boolean
}

export interface SimulateEnv {
  brokers: string[]
  registryUrl: string
  compression: CompressionName
}

export class UsageError extends Error {
  override name = 'UsageError'
}

export const USAGE = `Usage: node dist/services/producer/src/cli/simulate.js [options]

Publishes realistic core-banking events (Avro, Confluent wire format), keyed
by account, all families to banking.account-events.v1 (subjects per record:
TopicRecordNameStrategy), creating the topic and registering the schemas
when missing.

Options:
  --tenants N        tenants owning the accounts              (default 5)
  --accounts N       live accounts                            (default 100)
  --rate N           events per second                        (default 50)
  --count N          events to send, 0 = until Ctrl-C         (default 0)
  --seed N           PRNG seed; the same seed replays the same events
                     (default: random, printed at start)
  --mix SPEC         relative weights per family
                     (default transactions=80,accounts=10,fraud=10)
  --partitions N     partitions of topics it creates          (default ${DEFAULT_PARTITIONS})
  --topic NAME       the one topic of every family            (default ${DEFAULT_SOURCE_TOPIC})
  --three-topics     one topic per family instead: banking.transactions.v1,
                     banking.accounts.v1, banking.fraud-alerts.v1 (subjects
                     <topic>-value); order per account then holds per family only
  -h, --help         this text

Environment:
  KAFKA_BROKERS        comma-separated host:port list, e.g. 127.0.0.1:19092
  SCHEMA_REGISTRY_URL  Confluent-compatible API base, e.g. http://127.0.0.1:18081/apis/ccompat/v7
  KAFKA_COMPRESSION    codec of the batches it writes: ${compressionNames.join(', ')} (default ${DEFAULT_KAFKA_COMPRESSION})`

function integer (name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`)
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be at least ${min}, got ${text}`)
  return value
}

function positiveNumber (name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(text)}`)
  return value
}

/** Parses "transactions=80,accounts=10,fraud=10"; omitted families weigh 0. */
export function parseMix (text: string): EventMix {
  const mix: EventMix = { transactions: 0, accounts: 0, fraud: 0 }
  for (const part of text.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part)
    const family = match?.[1]
    if (match === null || !isFamilyName(family)) {
      throw new UsageError(`--mix wants family=weight pairs for ${FAMILY_NAMES.join(', ')}, got ${JSON.stringify(part)}`)
    }
    mix[family] = Number(match[2])
  }
  if (FAMILY_NAMES.every((family) => mix[family] === 0)) throw new UsageError('--mix needs at least one positive weight')
  return mix
}

export function parseSimulateArgs (argv: readonly string[], randomSeed: () => number): SimulateOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        tenants: { type: 'string' },
        accounts: { type: 'string' },
        rate: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        mix: { type: 'string' },
        partitions: { type: 'string' },
        topic: { type: 'string' },
        'three-topics': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      }
    }))
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const text = (name: string): string | undefined => values[name] as string | undefined
  const topic = text('topic')?.trim()
  if (topic === '') throw new UsageError('--topic needs a topic name')
  if (topic !== undefined && values['three-topics'] === true) throw new UsageError('--topic and --three-topics exclude each other')
  return {
    tenants: integer('tenants', text('tenants'), 5, 1),
    accounts: integer('accounts', text('accounts'), 100, 1),
    rate: positiveNumber('rate', text('rate'), 50),
    count: integer('count', text('count'), 0, 0),
    seed: integer('seed', text('seed'), randomSeed(), 0),
    mix: text('mix') === undefined ? { ...DEFAULT_MIX } : parseMix(text('mix') as string),
    partitions: integer('partitions', text('partitions'), DEFAULT_PARTITIONS, 1),
    ...(topic === undefined ? {} : { topic }),
    ...(values['three-topics'] === true ? { threeTopics: true } : {}),
    help: values.help === true
  }
}

/** Reads KAFKA_BROKERS and SCHEMA_REGISTRY_URL; the error names the variable. */
export function readSimulateEnv (env: Readonly<Record<string, string | undefined>>): SimulateEnv {
  const brokers = (env.KAFKA_BROKERS ?? '').split(',').map((broker) => broker.trim()).filter((broker) => broker !== '')
  if (brokers.length === 0) throw new UsageError('KAFKA_BROKERS is not set; give host:port pairs, e.g. KAFKA_BROKERS=127.0.0.1:19092')
  const bad = brokers.find((broker) => !/^[^\s:]+:\d+$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(broker))
  if (bad !== undefined) throw new UsageError(`KAFKA_BROKERS has an entry that is not host:port: ${JSON.stringify(bad)}`)
  const registryUrl = env.SCHEMA_REGISTRY_URL?.trim() ?? ''
  if (registryUrl === '') throw new UsageError('SCHEMA_REGISTRY_URL is not set; e.g. SCHEMA_REGISTRY_URL=http://127.0.0.1:18081/apis/ccompat/v7')
  if (!URL.canParse(registryUrl)) throw new UsageError(`SCHEMA_REGISTRY_URL is not a URL: ${JSON.stringify(registryUrl)}`)
  const compression = parseCompressionName(env.KAFKA_COMPRESSION ?? DEFAULT_KAFKA_COMPRESSION)
  if (compression === undefined) throw new UsageError(`KAFKA_COMPRESSION must be one of ${compressionNames.join(', ')}, got ${JSON.stringify(env.KAFKA_COMPRESSION)}`)
  return { brokers, registryUrl, compression }
}
