import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { CompressionName } from '../../services/events/src/index.js'
import { repoRoot } from './log-segments.js'
import { testStack } from './stack.js'

/** The Kafka client jars the local stack fetched (deploy/local/fetch.sh). */
function kafkaLibs (): string {
  const version = /^KAFKA_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot(), 'deploy/local/versions.env'), 'utf8'))?.[1]
  const libs = join(process.env.WEBHOOKS_CACHE_DIR ?? join(homedir(), '.cache/webhook-dispatcher'), `kafka-${version}`, 'libs')
  if (!existsSync(join(libs, `kafka-clients-${version}.jar`))) throw new Error(`no kafka-clients jar in ${libs}: run make stack-up first`)
  return libs
}

export interface JavaRecord {
  topic: string
  /** Undefined: Kafka's default partitioner (murmur2 of the key). */
  partition?: number
  key: Buffer
  value: Buffer
}

/**
 * Produces records with Apache Kafka's Java client (the broker's own
 * version) and `compression.type` = codec, its other settings default.
 * Resolves once every record is acknowledged.
 */
export async function produceWithJava (codec: CompressionName, records: readonly JavaRecord[]): Promise<void> {
  const { brokers } = await testStack()
  const child = spawn('java', ['-cp', `${kafkaLibs()}/*`, join(import.meta.dirname, 'java/CompressedProducer.java'), brokers.join(','), codec], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  child.stdin.end(records.map((r) => `${r.topic} ${r.partition ?? '-'} ${r.key.toString('base64')} ${r.value.toString('base64')}\n`).join(''))
  const code = await exited
  if (code !== 0 || !stdout.includes(`sent ${records.length}`)) throw new Error(`the Java producer (${codec}) exited ${code}: ${stdout}\n${stderr.slice(-2000)}`)
}
