// The health and metrics server: /metrics behind METRICS_TOKEN when one is
// set, /healthz and /readyz open for the kubelet's probes either way.
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { Counter, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createHealthServer, type HealthServerOptions, type HealthState } from '../../../../services/dispatcher/src/http/health.js'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
})

const serving: HealthState = { ready: () => true, started: () => true, member: () => true }

async function start (options?: HealthServerOptions, state: HealthState = serving): Promise<string> {
  const registry = new Registry()
  registry.registerMetric(new Counter({ name: 'webhooks_test_total', help: 'a test counter', registers: [] }))
  const server = createHealthServer(state, registry, options)
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

  it.each([
    // [what, ready, started, member] → /startupz, /readyz, group
    ['joining for the first time', true, false, false, 503, 200, 'joining'],
    ['a member', true, true, true, 200, 200, 'member'],
    ['in a rebalance', true, true, false, 200, 200, 'rebalancing'],
    ['shutting down', false, true, true, 200, 503, 'member']
  ] as const)('%s: /startupz follows the first join, /readyz only serving, and reports the group', async (_what, ready, started, member, startupz, readyz, group) => {
    const base = await start({}, { ready: () => ready, started: () => started, member: () => member })
    const startup = await fetch(`${base}/startupz`)
    expect(startup.status).toBe(startupz)
    await startup.arrayBuffer()
    const readiness = await fetch(`${base}/readyz`)
    expect(readiness.status).toBe(readyz)
    expect(await readiness.json()).toEqual({ status: readyz === 200 ? 'ready' : 'not-ready', group })
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  })
})
