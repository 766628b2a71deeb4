import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configOptions, loadConfig, retryTopicOf } from '../../../services/dispatcher/src/config.js'

const required = {
  KAFKA_BROKERS: '127.0.0.1:19092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7/',
  SECRETS_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`
}

function configError (env: Record<string, string>): { code?: string, variable?: string, message: string } {
  try {
    loadConfig({ ...required, ...env })
  } catch (err) {
    return err as { code?: string, variable?: string, message: string }
  }
  throw new Error('expected loadConfig to throw')
}

describe('loadConfig', () => {
  it('applies documented defaults and freezes the result', () => {
    const config = loadConfig(required)
    // One topic of every family by default (order per account across families); three stay configurable.
    expect(config.sourceTopics).toEqual(['banking.account-events.v1'])
    expect(loadConfig({ ...required, SOURCE_TOPICS: 'banking.transactions.v1,banking.accounts.v1,banking.fraud-alerts.v1' }).sourceTopics)
      .toEqual(['banking.transactions.v1', 'banking.accounts.v1', 'banking.fraud-alerts.v1'])
    expect(config.schemaRegistryUrl).toBe('http://127.0.0.1:18081/apis/ccompat/v7')
    expect(config.retryMaxAgeSeconds).toBe(72 * 3600)
    expect(config.retryScheduleMs[0]).toBe(5000)
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.sourceTopics)).toBe(true)
  })

  it.each(Object.keys(required))('refuses to start without %s and names it', (variable) => {
    const env: Record<string, string | undefined> = { ...required, [variable]: undefined }
    expect(() => loadConfig(env)).toThrow(variable)
  })

  it.each([
    ['MAX_IN_FLIGHT', 'lots'],
    ['MAX_IN_FLIGHT', '0'],
    ['DELIVERY_TIMEOUT_MS', '-5'],
    ['SCHEMA_REGISTRY_URL', 'ftp://registry'],
    ['RETRY_SCHEDULE_MS', '5000,1000'],
    ['LOG_LEVEL', 'loud'],
    ['KAFKA_SESSION_TIMEOUT_MS', '100']
  ])('rejects %s=%s with a ConfigError naming the variable', (variable, value) => {
    const err = configError({ [variable]: value })
    expect(err.code).toBe('WHD_ERR_CONFIG')
    expect(err.variable).toBe(variable)
    expect(err.message).toContain(variable)
  })

  it('checks relations between options', () => {
    expect(configError({ MAX_IN_FLIGHT: '10', ENDPOINT_MAX_IN_FLIGHT: '20' }).variable).toBe('ENDPOINT_MAX_IN_FLIGHT')
    expect(configError({ CONNECT_TIMEOUT_MS: '5000', DELIVERY_TIMEOUT_MS: '1000' }).variable).toBe('DELIVERY_TIMEOUT_MS')
    expect(configError({ SOURCE_TOPICS: 'a,b.retry.webhook-dispatcher' }).variable).toBe('SOURCE_TOPICS')
    expect(configError({ SOURCE_TOPICS: 'a,b.retry', RETRY_TOPIC_SUFFIX: '.retry' }).variable).toBe('SOURCE_TOPICS')
    expect(configError({ SOURCE_TOPICS: 'a', DEAD_LETTER_TOPIC: 'a' }).variable).toBe('SOURCE_TOPICS')
  })

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('refuses SASL %s without TLS, naming KAFKA_SASL_MECHANISM and KAFKA_SSL, unless KAFKA_ALLOW_PLAINTEXT_SASL=true', (mechanism) => {
    const sasl = { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }
    const err = configError(sasl)
    expect(err.code).toBe('WHD_ERR_CONFIG')
    expect(err.variable).toBe('KAFKA_SASL_MECHANISM')
    expect(err.message).toContain('KAFKA_SASL_MECHANISM')
    expect(err.message).toContain('KAFKA_SSL')
    expect(loadConfig({ ...required, ...sasl, KAFKA_SSL: 'true' }).kafkaSaslMechanism).toBe(mechanism)
    expect(loadConfig({ ...required, ...sasl, KAFKA_ALLOW_PLAINTEXT_SASL: 'true' }).kafkaAllowPlaintextSasl).toBe(true)
    expect(configError({ ...sasl, KAFKA_ALLOW_PLAINTEXT_SASL: 'yes' }).variable).toBe('KAFKA_ALLOW_PLAINTEXT_SASL')
  })

  it('reads METRICS_TOKEN (none = /metrics open) and USER_AGENT_VERSION (default true)', () => {
    expect(loadConfig(required)).toMatchObject({ metricsToken: undefined, userAgentVersion: true })
    const token = 'mt_0123456789abcdefXYZ'
    expect(loadConfig({ ...required, METRICS_TOKEN: token, USER_AGENT_VERSION: 'false' })).toMatchObject({ metricsToken: token, userAgentVersion: false })
    expect(configError({ METRICS_TOKEN: 'short' }).variable).toBe('METRICS_TOKEN')
    expect(configError({ METRICS_TOKEN: 'has spaces in the token value' }).variable).toBe('METRICS_TOKEN')
    expect(configError({ USER_AGENT_VERSION: 'no' }).variable).toBe('USER_AGENT_VERSION')
  })

  it('reads the admin API\'s TLS files, deadlines, connection cap and quotas, and their relations', () => {
    expect(loadConfig(required)).toMatchObject({
      adminTlsCertFile: undefined,
      adminTlsKeyFile: undefined,
      adminHeadersTimeoutMs: 10_000,
      adminRequestTimeoutMs: 30_000,
      adminMaxConnections: 128,
      adminMaxEndpointsPerTenant: 20,
      adminTestEventsPerMinute: 10,
      adminRequestsPerSecond: 20,
      adminRequestBurst: 100
    })
    expect(loadConfig({ ...required, ADMIN_TLS_CERT_FILE: '/tls/tls.crt', ADMIN_TLS_KEY_FILE: '/tls/tls.key' })).toMatchObject({ adminTlsCertFile: '/tls/tls.crt', adminTlsKeyFile: '/tls/tls.key' })
    expect(configError({ ADMIN_TLS_CERT_FILE: '/tls/tls.crt' }).variable).toBe('ADMIN_TLS_KEY_FILE')
    expect(configError({ ADMIN_TLS_KEY_FILE: '/tls/tls.key' }).variable).toBe('ADMIN_TLS_CERT_FILE')
    expect(configError({ ADMIN_HEADERS_TIMEOUT_MS: '40000' }).variable).toBe('ADMIN_HEADERS_TIMEOUT_MS')
    expect(configError({ ADMIN_REQUEST_TIMEOUT_MS: '10000', DELIVERY_TIMEOUT_MS: '15000' }).variable).toBe('ADMIN_REQUEST_TIMEOUT_MS')
    expect(configError({ ADMIN_MAX_ENDPOINTS_PER_TENANT: '0' }).variable).toBe('ADMIN_MAX_ENDPOINTS_PER_TENANT')
  })

  it('names retry topics per consumer group by default, so two deployments never read each other\'s parked items', () => {
    expect(loadConfig(required).retryTopicSuffix).toBe('.retry.webhook-dispatcher')
    expect(retryTopicOf(loadConfig({ ...required, KAFKA_GROUP_ID: 'blue' }), 'banking.transactions.v1')).toBe('banking.transactions.v1.retry.blue')
    expect(retryTopicOf(loadConfig({ ...required, KAFKA_GROUP_ID: 'green' }), 'banking.transactions.v1')).toBe('banking.transactions.v1.retry.green')
    // The layout before per-group retry topics, for a deployment that keeps its topics.
    expect(loadConfig({ ...required, RETRY_TOPIC_SUFFIX: '.retry' }).retryTopicSuffix).toBe('.retry')
    expect(loadConfig({ ...required, RETRY_TOPIC_SUFFIX: '-r-{group}-x', KAFKA_GROUP_ID: 'g1' }).retryTopicSuffix).toBe('-r-g1-x')
  })

  it('refuses a group id that cannot be part of a retry topic name, naming RETRY_TOPIC_SUFFIX', () => {
    const err = configError({ KAFKA_GROUP_ID: 'team a/dispatch' })
    expect(err.variable).toBe('RETRY_TOPIC_SUFFIX')
    expect(err.message).toContain('team a/dispatch')
    expect(loadConfig({ ...required, KAFKA_GROUP_ID: 'team a/dispatch', RETRY_TOPIC_SUFFIX: '.retry.team-a', DEAD_LETTER_STATE_TOPIC: 'dl-state.team-a', HISTORY_TOPIC: 'webhooks.attempts.team-a', REPLAY_TOPIC: 'webhooks.replays.team-a' }).retryTopicSuffix).toBe('.retry.team-a')
    // The attempts topic is named per group as well, and says so.
    expect(() => loadConfig({ ...required, KAFKA_GROUP_ID: 'team a/dispatch', RETRY_TOPIC_SUFFIX: '.retry.team-a', DEAD_LETTER_STATE_TOPIC: 'dl-state.team-a' })).toThrow(/HISTORY_TOPIC: .*KAFKA_GROUP_ID/)
    // So is the replay jobs topic.
    expect(() => loadConfig({ ...required, KAFKA_GROUP_ID: 'team a/dispatch', RETRY_TOPIC_SUFFIX: '.retry.team-a', DEAD_LETTER_STATE_TOPIC: 'dl-state.team-a', HISTORY_TOPIC: 'webhooks.attempts.team-a' })).toThrow(/REPLAY_TOPIC: .*KAFKA_GROUP_ID/)
    expect(loadConfig({ ...required, KAFKA_GROUP_ID: 'blue' }).replayTopic).toBe('webhooks.replays.blue')
  })

  it('keeps a dead-letter state topic per deployment, naming DEAD_LETTER_STATE_TOPIC when the group makes it no topic name', () => {
    expect(loadConfig({ ...required, KAFKA_GROUP_ID: 'blue' }).deadLetterStateTopic).toBe('webhooks.dead-letter-state.blue')
    expect(loadConfig({ ...required, DEAD_LETTER_STATE_TOPIC: 'shared-state' }).deadLetterStateTopic).toBe('shared-state')
    const err = configError({ KAFKA_GROUP_ID: 'team a/dispatch', RETRY_TOPIC_SUFFIX: '.retry.team-a' })
    expect(err.variable).toBe('DEAD_LETTER_STATE_TOPIC')
    expect(err.message).toContain('team a/dispatch')
  })

  it('every option is in the README configuration table with its default', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8')
    for (const option of configOptions) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${option.variable}\` |`))
      expect(row, option.variable).toBeDefined()
      expect(row).toContain(option.defaultValue === undefined ? '*required*' : `\`${option.defaultValue}\``)
    }
  })
})
