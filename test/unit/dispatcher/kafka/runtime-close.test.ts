import type { Kafka } from 'kafkajs'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../../services/dispatcher/src/config.js'
import { DispatcherRuntime } from '../../../../services/dispatcher/src/kafka/consumer.js'
import { createMetrics } from '../../../../services/dispatcher/src/metrics.js'

describe('DispatcherRuntime.close', () => {
  it('returns the same promise to every caller and turns readiness off at once', async () => {
    const config = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9', SECRETS_ENCRYPTION_KEYS: `k:${Buffer.alloc(32, 1).toString('base64')}` })
    const runtime = new DispatcherRuntime({
      config,
      // Never started: close() must not need Kafka.
      kafka: {} as Kafka,
      decode: async () => { throw new Error('not used') },
      subscriptions: { forTenant: () => [], get: () => undefined, all: () => [], disable: () => {} },
      deliver: async () => { throw new Error('not used') },
      metrics: createMetrics(),
      log: pino({ level: 'silent' }),
      onFatal: () => {}
    })
    const first = runtime.close(0)
    const second = runtime.close(0)
    expect(second).toBe(first)
    expect(runtime.ready).toBe(false)
    await first
  })
})
