// WEBHOOK_PROXY_URL: an http:// CONNECT proxy or none; anything else stops
// start-up, without repeating a value that may hold credentials.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../services/dispatcher/src/config.js'

const required = { KAFKA_BROKERS: 'b:9092', SCHEMA_REGISTRY_URL: 'http://r:8080', SECRETS_ENCRYPTION_KEYS: `k:${Buffer.alloc(32, 1).toString('base64')}` }

describe('WEBHOOK_PROXY_URL', () => {
  it('is none by default and takes an http:// proxy, with credentials', () => {
    expect(loadConfig(required).webhookProxyUrl).toBeUndefined()
    expect(loadConfig({ ...required, WEBHOOK_PROXY_URL: 'http://proxy.internal:3128' }).webhookProxyUrl).toBe('http://proxy.internal:3128')
    expect(loadConfig({ ...required, WEBHOOK_PROXY_URL: 'http://u:p@proxy.internal:3128' }).webhookProxyUrl).toBe('http://u:p@proxy.internal:3128')
  })

  it.each(['https://proxy.internal:3128', 'socks5://proxy.internal:1080', 'http://proxy.internal:3128/path', 'proxy.internal:3128'])('refuses %s without echoing it', (value) => {
    expect(() => loadConfig({ ...required, WEBHOOK_PROXY_URL: value.replace('proxy', 'u:secret@proxy') })).toThrow(/WEBHOOK_PROXY_URL/)
    try {
      loadConfig({ ...required, WEBHOOK_PROXY_URL: value.replace('proxy', 'u:secret@proxy') })
    } catch (err) {
      expect((err as Error).message).not.toContain('secret')
    }
  })
})
