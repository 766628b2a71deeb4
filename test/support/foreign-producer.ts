import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { CompressionName } from '../../services/events/src/index.js'
import { repoRoot } from './log-segments.js'
import { testStack } from './stack.js'

/**
 * Producers of other Kafka clients, each with its defaults plus
 * compression.type: Apache Kafka's Java client (the broker's own
 * kafka-clients jar, fetched by deploy/local/fetch.sh) and librdkafka
 * (confluent-kafka in .tools/py, from deploy/local/python-tools.sh).
 */
export type ForeignClient = 'java' | 'librdkafka'

export interface ForeignRecord {
  topic: string
  /** Undefined: the client's default (murmur2) partitioner. */
  partition?: number
  key: Buffer
  value: Buffer
}

function javaCommand (program = 'CompressedProducer.java'): [string, string[]] {
  const version = /^KAFKA_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot(), 'deploy/local/versions.env'), 'utf8'))?.[1]
  const libs = join(process.env.WEBHOOKS_CACHE_DIR ?? join(homedir(), '.cache/webhook-dispatcher'), `kafka-${version}`, 'libs')
  if (!existsSync(join(libs, `kafka-clients-${version}.jar`))) throw new Error(`no kafka-clients jar in ${libs}: run make stack-up first`)
  return ['java', ['-cp', `${libs}/*`, join(import.meta.dirname, 'java', program)]]
}

/**
 * Sets a broker-side produce quota (bytes per second) for `clientId`, or
 * removes it (`undefined`), with Kafka's own Java admin client: the broker
 * then throttles that client's produce requests and delays its acknowledgements.
 */
export async function setProduceQuota (clientId: string, bytesPerSecond: number | undefined): Promise<void> {
  const { brokers } = await testStack()
  const [command, args] = javaCommand('ClientQuota.java')
  const child = spawn(command, [...args, brokers.join(','), clientId, bytesPerSecond === undefined ? 'none' : String(bytesPerSecond)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`ClientQuota exited ${code}: ${output}`)
}

function librdkafkaCommand (): [string, string[]] {
  const python = join(repoRoot(), '.tools/py/bin/python')
  if (!existsSync(python)) throw new Error(`no ${python}: run deploy/local/python-tools.sh (make test does)`)
  return [python, [join(import.meta.dirname, 'python/compressed_producer.py')]]
}

/** Produces the records with `client` and compression.type = codec; resolves once all are acknowledged. */
export async function produceWith (client: ForeignClient, codec: CompressionName, records: readonly ForeignRecord[]): Promise<void> {
  const { brokers } = await testStack()
  const [command, args] = client === 'java' ? javaCommand() : librdkafkaCommand()
  const child = spawn(command, [...args, brokers.join(','), codec], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  child.stdin.end(records.map((r) => `${r.topic} ${r.partition ?? '-'} ${r.key.toString('base64')} ${r.value.toString('base64')}\n`).join(''))
  const code = await exited
  if (code !== 0 || !stdout.includes(`sent ${records.length}`)) throw new Error(`the ${client} producer (${codec}) exited ${code}: ${stdout}\n${stderr.slice(-2000)}`)
}
