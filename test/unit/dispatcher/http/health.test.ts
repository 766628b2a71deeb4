// The health and metrics server: /metrics behind METRICS_TOKEN when one is
// set, /healthz and /readyz open for the kubelet's probes either way.
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { Counter, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createHealthServer, type HealthServerOptions } from '../../../../services/dispatcher/src/http/health.js'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
})

async function start (options?: HealthServerOptions): Promise<string> {
  const registry = new Registry()
  registry.registerMetric(new Counter({ name: 'webhooks_test_total', help: 'a test counter', registers: [] }))
  const server = createHealthServer({ ready: () => true }, registry, options)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const TOKEN = 'metrics-token-0123456789'

describe('createHealthServer', () => {
  it('serves /metrics to anyone without a token', async () => {
    const base = await start()
    const res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('webhooks_test_total')
  })

  it.each([
    ['no authorization', undefined],
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['another scheme', `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`],
    ['the bare token', TOKEN]
  ])('with METRICS_TOKEN, answers /metrics with %s by 401 and no metrics', async (_what, authorization) => {
    const base = await start({ metricsToken: TOKEN })
    const res = await fetch(`${base}/metrics`, { headers: authorization === undefined ? {} : { authorization } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await res.text()).not.toContain('webhooks_')
  })

  it('with METRICS_TOKEN, serves /metrics to the bearer of the token, and keeps /healthz and /readyz open', async () => {
    const base = await start({ metricsToken: TOKEN })
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('webhooks_test_total')
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
  })
})
