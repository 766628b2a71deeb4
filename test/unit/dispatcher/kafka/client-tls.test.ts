// Kafka TLS settings: KAFKA_SSL_CA_FILE, and KAFKA_SSL_CERT_FILE /
// KAFKA_SSL_KEY_FILE for brokers that require client certificates.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../../services/dispatcher/src/config.js'
import { ConfigError } from '../../../../services/dispatcher/src/errors.js'
import { kafkaTlsOptions } from '../../../../services/dispatcher/src/kafka/client-tls.js'

const required = { KAFKA_BROKERS: 'b:9093', SCHEMA_REGISTRY_URL: 'http://r:8080', SECRETS_ENCRYPTION_KEYS: `k:${Buffer.alloc(32, 1).toString('base64')}` }

function configError (env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...required, ...env })
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('loadConfig accepted the configuration')
}

describe('Kafka TLS configuration', () => {
  it('defaults to no CA file and no client certificate', () => {
    expect(loadConfig(required)).toMatchObject({ kafkaSsl: false, kafkaSslCaFile: undefined, kafkaSslCertFile: undefined, kafkaSslKeyFile: undefined })
  })

  it('takes a client certificate and key together, with KAFKA_SSL', () => {
    expect(loadConfig({ ...required, KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/c/tls.crt', KAFKA_SSL_KEY_FILE: '/c/tls.key', KAFKA_SSL_CA_FILE: '/ca/ca.crt' }))
      .toMatchObject({ kafkaSslCertFile: '/c/tls.crt', kafkaSslKeyFile: '/c/tls.key', kafkaSslCaFile: '/ca/ca.crt' })
    expect(configError({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/c/tls.crt' }).variable).toBe('KAFKA_SSL_KEY_FILE')
    expect(configError({ KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: '/c/tls.key' }).variable).toBe('KAFKA_SSL_CERT_FILE')
  })

  it('refuses a CA file or client certificate without KAFKA_SSL', () => {
    expect(configError({ KAFKA_SSL_CA_FILE: '/ca/ca.crt' }).message).toContain('needs KAFKA_SSL=true')
    expect(configError({ KAFKA_SSL_CERT_FILE: '/c/tls.crt', KAFKA_SSL_KEY_FILE: '/c/tls.key' }).variable).toBe('KAFKA_SSL_CERT_FILE')
  })
})

describe('kafkaTlsOptions', () => {
  const files: Record<string, string> = { '/ca.pem': 'CA', '/c.pem': 'CERT', '/k.pem': 'KEY' }
  const read = (path: string): Buffer => {
    const text = files[path]
    if (text === undefined) throw new Error(`no file ${path}`)
    return Buffer.from(text)
  }

  it('is false without KAFKA_SSL and true (system CAs) with it alone', () => {
    expect(kafkaTlsOptions({ kafkaSsl: false, kafkaSslCaFile: undefined, kafkaSslCertFile: undefined, kafkaSslKeyFile: undefined }, read)).toBe(false)
    expect(kafkaTlsOptions({ kafkaSsl: true, kafkaSslCaFile: undefined, kafkaSslCertFile: undefined, kafkaSslKeyFile: undefined }, read)).toBe(true)
  })

  it('reads the CA and the client certificate and key', () => {
    expect(kafkaTlsOptions({ kafkaSsl: true, kafkaSslCaFile: '/ca.pem', kafkaSslCertFile: '/c.pem', kafkaSslKeyFile: '/k.pem' }, read))
      .toEqual({ ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') })
    expect(kafkaTlsOptions({ kafkaSsl: true, kafkaSslCaFile: '/ca.pem', kafkaSslCertFile: undefined, kafkaSslKeyFile: undefined }, read)).toEqual({ ca: Buffer.from('CA') })
  })
})
