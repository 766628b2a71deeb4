import { freePort } from './free-port.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { openSync, closeSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { repoRoot } from './log-segments.js'
import { waitUntil } from './wait.js'

// From the sources or from their build under dist/ (make chaos runs the latter).
const root = repoRoot()
const localDeploy = join(root, 'deploy/local')

/**
 * A single-node KRaft broker of the test's own, for a test that stops and
 * starts Kafka: the shared broker of the stack serves other test files at the
 * same time and must stay up. Configured from deploy/local/kafka.properties
 * like the stack's, on free loopback ports, with its data under
 * `.run/private-kafka-<id>/`; it runs the Kafka jars deploy/local/stack.sh
 * fetched (WEBHOOKS_CACHE_DIR, default ~/.cache/webhook-dispatcher).
 */
export interface PrivateKafka {
  brokers: string[]
  port: number
  dataDir: string
  /** Whether the broker process is running. */
  running: () => boolean
  /** Stops the broker: SIGTERM is Kafka's controlled shutdown, SIGKILL a crash. Resolves once the process has exited and the port is closed. */
  stop: (signal?: NodeJS.Signals) => Promise<void>
  /** Starts it again on the same ports and data directory, and waits until it answers. */
  start: () => Promise<void>
  /** Stops it (SIGKILL) and removes its directory. */
  close: () => Promise<void>
  /** With `tls`: the TLS listener's bootstrap address. */
  tlsBrokers: string[]
}

/**
 * A TLS listener beside the plaintext one (PEM files, KIP-651): the broker
 * presents `certPem`/`keyPem`, and with `requireClientCert` accepts only
 * clients whose certificate chains to `caPem` (ssl.client.auth=required).
 */
export interface PrivateKafkaTls {
  caPem: string
  certPem: string
  keyPem: string
  requireClientCert: boolean
}

function portOpen (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

async function kafkaVersion (): Promise<string> {
  const text = await readFile(join(localDeploy, 'versions.env'), 'utf8')
  const match = /^KAFKA_VERSION=(\S+)$/m.exec(text)
  if (match === null) throw new Error('KAFKA_VERSION not found in deploy/local/versions.env')
  return match[1] as string
}

export async function startPrivateKafka (options: { tls?: PrivateKafkaTls } = {}): Promise<PrivateKafka> {
  const cache = process.env.WEBHOOKS_CACHE_DIR ?? join(homedir(), '.cache/webhook-dispatcher')
  const libs = join(cache, `kafka-${await kafkaVersion()}`, 'libs')
  const dir = join(root, '.run', `private-kafka-${randomUUID()}`)
  const dataDir = join(dir, 'kafka-data')
  await mkdir(dataDir, { recursive: true })
  const port = await freePort()
  const controllerPort = await freePort()
  const props = join(dir, 'kafka.properties')
  const log4j = join(dir, 'kafka-log4j2.properties')
  const outFile = join(dir, 'kafka.out')
  let properties = (await readFile(join(localDeploy, 'kafka.properties'), 'utf8'))
    .replaceAll('@KAFKA_PORT@', String(port))
    .replaceAll('@CONTROLLER_PORT@', String(controllerPort))
    .replaceAll('@DATA_DIR@', dataDir)
  const tlsPort = options.tls === undefined ? undefined : await freePort()
  if (options.tls !== undefined && tlsPort !== undefined) {
    const keystore = join(dir, 'keystore.pem')
    const truststore = join(dir, 'truststore.pem')
    await writeFile(keystore, `${options.tls.keyPem}${options.tls.certPem}`)
    await writeFile(truststore, options.tls.caPem)
    properties = properties
      .replace(/^listeners=(.*)$/m, `listeners=$1,SSL://127.0.0.1:${tlsPort}`)
      .replace(/^advertised\.listeners=(.*)$/m, `advertised.listeners=$1,SSL://127.0.0.1:${tlsPort}`)
      .replace(/^listener\.security\.protocol\.map=(.*)$/m, 'listener.security.protocol.map=$1,SSL:SSL') +
      ['', 'ssl.keystore.type=PEM', `ssl.keystore.location=${keystore}`, 'ssl.truststore.type=PEM', `ssl.truststore.location=${truststore}`,
        `ssl.client.auth=${options.tls.requireClientCert ? 'required' : 'none'}`, ''].join('\n')
  }
  await writeFile(props, properties)
  await writeFile(log4j, (await readFile(join(localDeploy, 'kafka-log4j2.properties'), 'utf8')).replaceAll('@LOG_FILE@', join(dir, 'kafka.log')))
  const javaOpts = ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4j}`]
  const classpath = ['-cp', `${libs}/*`]

  const java = (args: string[]): ChildProcess => {
    const out = openSync(outFile, 'a')
    try {
      return spawn('java', [...javaOpts, ...classpath, ...args], { stdio: ['ignore', out, out] })
    } finally {
      closeSync(out)
    }
  }
  const exitOf = (child: ChildProcess): Promise<number | null> => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })

  // A KRaft cluster id is a base64url-encoded UUID (what StorageTool random-uuid prints).
  const clusterId = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url')
  // `=`: an id may start with "-", which the tool's argument parser would take for an option.
  const formatted = await exitOf(java(['kafka.tools.StorageTool', 'format', '--standalone', `--cluster-id=${clusterId}`, '-c', props]))
  if (formatted !== 0) throw new Error(`formatting the private broker's storage failed (${formatted}); see ${outFile}`)

  let child: ChildProcess | undefined
  let exited: Promise<number | null> = Promise.resolve(null)
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null
  const brokers = [`127.0.0.1:${port}`]

  const start = async (): Promise<void> => {
    if (running()) return
    child = java(['kafka.Kafka', props])
    exited = exitOf(child)
    const proc = child
    await waitUntil(`private Kafka on 127.0.0.1:${port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`private Kafka exited with ${proc.exitCode}; see ${outFile}`)
      // Quiet: refused connections are what this probe expects while the broker starts.
      const admin = new Kafka({ brokers, clientId: 'private-kafka-health', logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin()
      try {
        await admin.connect()
        await admin.fetchTopicMetadata({ topics: [] })
        return true
      } finally {
        await admin.disconnect().catch(() => undefined)
      }
    }, { timeoutMs: 90_000, intervalMs: 500 })
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (!running()) return
    child?.kill(signal)
    await exited
    await waitUntil(`port ${port} closed`, async () => !(await portOpen(port)), { timeoutMs: 10_000 })
  }

  await start()
  return {
    brokers,
    port,
    dataDir,
    running,
    stop,
    start,
    tlsBrokers: tlsPort === undefined ? [] : [`127.0.0.1:${tlsPort}`],
    close: async () => {
      await stop('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    }
  }
}
