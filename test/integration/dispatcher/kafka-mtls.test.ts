// Kafka brokers that require client certificates (ssl.client.auth=required):
// a private broker with a TLS listener, and the kafkajs client options the
// dispatcher builds from KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE
// and KAFKA_SSL_KEY_FILE (main.ts passes the same function's result).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../services/dispatcher/src/config.js'
import { kafkaTlsOptions } from '../../../services/dispatcher/src/kafka/client-tls.js'
import { startPrivateKafka, type PrivateKafka } from '../../support/private-kafka.js'
import { testPki, type TestPki } from '../../support/tls-certs.js'

describe('Kafka over mutual TLS', () => {
  let pki: TestPki
  let broker: PrivateKafka | undefined
  let dir = ''
  const file = (name: string, text: string): string => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  beforeAll(async () => {
    pki = await testPki()
    dir = mkdtempSync(join(tmpdir(), 'kafka-mtls-'))
    broker = await startPrivateKafka({ tls: { caPem: pki.ca.certPem, certPem: pki.server.certPem, keyPem: pki.server.keyPem, requireClientCert: true } })
  })
  afterAll(async () => {
    await broker?.close()
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  /** Connects an admin client with the dispatcher's options from `env` and lists the topics. */
  async function connect (env: Record<string, string>): Promise<string[]> {
    const config = loadConfig({ KAFKA_BROKERS: broker?.tlsBrokers.join(',') ?? '', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9', SECRETS_ENCRYPTION_KEYS: `k:${Buffer.alloc(32, 1).toString('base64')}`, KAFKA_SSL: 'true', ...env })
    const kafka = new Kafka({ brokers: [...config.kafkaBrokers], clientId: 'mtls-test', ssl: kafkaTlsOptions(config), logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 5000 })
    const admin = kafka.admin()
    try {
      await admin.connect()
      return await admin.listTopics()
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }

  it('connects with the client certificate and the private CA from files', async () => {
    const topics = await connect({ KAFKA_SSL_CA_FILE: file('ca.pem', pki.ca.certPem), KAFKA_SSL_CERT_FILE: file('client.pem', pki.client.certPem), KAFKA_SSL_KEY_FILE: file('client.key', pki.client.keyPem) })
    expect(Array.isArray(topics)).toBe(true)
  })

  it('is refused by the broker without a client certificate, or with one from another CA', async () => {
    // The broker's TLS alert: bad certificate (42), certificate unknown (46) or certificate required (116).
    const refused = /alert (bad certificate|certificate required|certificate unknown)/
    await expect(connect({ KAFKA_SSL_CA_FILE: file('ca.pem', pki.ca.certPem) })).rejects.toThrow(refused)
    await expect(connect({ KAFKA_SSL_CA_FILE: file('ca.pem', pki.ca.certPem), KAFKA_SSL_CERT_FILE: file('foreign.pem', pki.foreignClient.certPem), KAFKA_SSL_KEY_FILE: file('foreign.key', pki.foreignClient.keyPem) })).rejects.toThrow(refused)
  })

  it('refuses a broker whose certificate does not chain to KAFKA_SSL_CA_FILE', async () => {
    await expect(connect({ KAFKA_SSL_CA_FILE: file('foreign-ca.pem', pki.foreignCa.certPem), KAFKA_SSL_CERT_FILE: file('client.pem', pki.client.certPem), KAFKA_SSL_KEY_FILE: file('client.key', pki.client.keyPem) })).rejects.toThrow(/certificate/i)
  })
})
