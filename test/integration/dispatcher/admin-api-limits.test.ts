// Issue 13, items 5, 6 and 9: per-tenant quotas, slow and many clients, TLS
// and the audit log line. The admin API runs on a real node:http(s) server
// on loopback (harness.ts); slow clients are raw sockets.
import { once } from 'node:events'
import { request as httpsRequest } from 'node:https'
import { connect, type Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { createSsrfPolicy } from '../../../services/dispatcher/src/delivery/ssrf.js'
import { connectionsCheckingIntervalMs, createAdminApi, parseAdminTokens, startAdminServer, type AdminServer } from '../../../services/dispatcher/src/http/admin-api.js'
import { createLogger } from '../../../services/dispatcher/src/logger.js'
import { MemorySubscriptionStore } from '../../../services/dispatcher/src/subscriptions/memory-store.js'
import { duplicateKeys } from '../../support/json-keys.js'
import { testPki } from '../../support/tls-certs.js'
import { scaled, waitUntil } from '../../support/wait.js'
import { call, createEndpoint, endpointBody, startHarness, TENANT_A, TOKENS, type Harness } from '../../unit/dispatcher/http/harness.js'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('endpoints per tenant', () => {
  it('refuses the endpoint past the quota with 409 WHD_ERR_QUOTA_EXCEEDED, through any token, until one is deleted', async () => {
    h = await startHarness({ quotas: { maxEndpointsPerTenant: 3 } })
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await createEndpoint(h, 'tenantA', endpointBody())).endpoint.id)
    const refused = await call(h, 'POST', '/v1/endpoints', { token: 'tenantA', body: endpointBody() })
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('WHD_ERR_QUOTA_EXCEEDED')
    // An operator creating for the tenant counts against it too; another tenant has its own.
    expect((await call(h, 'POST', '/v1/endpoints', { token: 'operator', body: endpointBody({ tenantId: TENANT_A }) })).body.error.code).toBe('WHD_ERR_QUOTA_EXCEEDED')
    await createEndpoint(h, 'tenantB', endpointBody())
    expect(h.store.all().filter((s) => s.tenantId === TENANT_A)).toHaveLength(3)

    await call(h, 'DELETE', `/v1/endpoints/${ids[0] ?? ''}`, { token: 'tenantA' })
    await createEndpoint(h, 'tenantA', endpointBody())
  })

  it('lets concurrent creates take only the places that are left', async () => {
    h = await startHarness({ quotas: { maxEndpointsPerTenant: 4 } })
    const harness = h
    const results = await Promise.all(Array.from({ length: 10 }, async () => await call(harness, 'POST', '/v1/endpoints', { token: 'tenantA', body: endpointBody() })))
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 201, 409, 409, 409, 409, 409, 409])
    expect(h.store.all().filter((s) => s.tenantId === TENANT_A)).toHaveLength(4)
  })
})

describe('request rate per tenant or operator token', () => {
  it('answers 429 WHD_ERR_RATE_LIMITED with retry-after past the burst, per tenant over all its tokens, and refills with time', async () => {
    h = await startHarness({
      quotas: { requestBurst: 5, requestsPerSecond: 2 },
      tokens: parseAdminTokens(`${TOKENS.tenantA}:${TENANT_A},second-token-of-tenant-a-0123456:${TENANT_A},${TOKENS.tenantB}:tenant-b,${TOKENS.operator}:*`)
    })
    for (let i = 0; i < 3; i++) expect((await call(h, 'GET', '/v1/endpoints', { token: 'tenantA' })).status).toBe(200)
    for (let i = 0; i < 2; i++) expect((await call(h, 'GET', '/v1/endpoints', { token: 'second-token-of-tenant-a-0123456' })).status).toBe(200)
    const limited = await call(h, 'GET', '/v1/endpoints', { token: 'tenantA' })
    expect(limited.status).toBe(429)
    expect(limited.body.error.code).toBe('WHD_ERR_RATE_LIMITED')
    // One token at 2 a second: half a second, rounded up to whole seconds.
    expect(limited.headers.get('retry-after')).toBe('1')
    expect((await call(h, 'GET', '/v1/endpoints', { token: 'second-token-of-tenant-a-0123456' })).status).toBe(429)
    // Others are not affected; unauthenticated calls are not counted (and stay 401).
    expect((await call(h, 'GET', '/v1/endpoints', { token: 'tenantB' })).status).toBe(200)
    expect((await call(h, 'GET', '/v1/endpoints', { token: 'operator' })).status).toBe(200)
    expect((await call(h, 'GET', '/v1/endpoints', { token: null })).status).toBe(401)
    h.advance(500)
    expect((await call(h, 'GET', '/v1/endpoints', { token: 'tenantA' })).status).toBe(200)
    expect((await call(h, 'GET', '/v1/endpoints', { token: 'tenantA' })).status).toBe(429)
  })
})

describe('test events per tenant', () => {
  it('allows testEventsPerMinute test events, then 429 with retry-after; counted against the endpoint\'s tenant whoever asks', async () => {
    h = await startHarness({ quotas: { testEventsPerMinute: 3 } })
    const { endpoint } = await createEndpoint(h, 'tenantA', endpointBody())
    const other = await createEndpoint(h, 'tenantA', endpointBody())
    const test = async (id: string, token: 'tenantA' | 'operator'): Promise<Awaited<ReturnType<typeof call>>> =>
      await call(h as Harness, 'POST', `/v1/endpoints/${id}/test`, { token })
    expect((await test(endpoint.id, 'tenantA')).status).toBe(200)
    expect((await test(other.endpoint.id, 'tenantA')).status).toBe(200)
    expect((await test(endpoint.id, 'operator')).status).toBe(200)
    const limited = await test(other.endpoint.id, 'tenantA')
    expect(limited.status).toBe(429)
    expect(limited.body.error.code).toBe('WHD_ERR_RATE_LIMITED')
    // 3 a minute: the next one in 20 s.
    expect(limited.headers.get('retry-after')).toBe('20')
    expect((await test(endpoint.id, 'operator')).status).toBe(429)
    expect(h.testEvents).toHaveLength(3)
    h.advance(20_000)
    expect((await test(endpoint.id, 'tenantA')).status).toBe(200)
    expect(h.testEvents).toHaveLength(4)
  })
})

/** A raw client that sends `first`, then `drip` every `everyMs`, until the server closes the connection (or `giveUpMs`). */
async function trickle (port: number, first: string, drip: string, everyMs: number, giveUpMs: number): Promise<{ closedAfterMs: number | undefined, response: string }> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  let response = ''
  const started = performance.now()
  socket.write(first)
  const timer = setInterval(() => { if (socket.writable) socket.write(drip) }, everyMs)
  // Once the server answers, stop writing: a write after its close would reset the connection.
  socket.on('data', (chunk: Buffer) => {
    clearInterval(timer)
    response += chunk.toString('latin1')
  })
  const closed = await Promise.race([
    // Not events.once: it rejects on 'error', and a reset is a close here too.
    new Promise<true>((resolve) => socket.once('close', () => resolve(true))),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), giveUpMs))
  ])
  clearInterval(timer)
  const closedAfterMs = closed ? performance.now() - started : undefined
  socket.destroy()
  return { closedAfterMs, response }
}

describe('slow clients', () => {
  const limits = { headersTimeoutMs: 600, requestTimeoutMs: 1200, maxConnections: 128 }
  // Node checks the deadlines every connectionsCheckingInterval; the rest is scheduling.
  const bound = (): number => connectionsCheckingIntervalMs(limits) + scaled(700)

  it('closes a connection that trickles its headers with 408 once headersTimeoutMs has passed', async () => {
    h = await startHarness({ connectionLimits: limits })
    const { closedAfterMs, response } = await trickle(h.api.port, 'GET /v1/endpoints HTTP/1.1\r\nhost: 127.0.0.1\r\n', 'x-slow: 1\r\n', 100, limits.headersTimeoutMs + scaled(10_000))
    expect(closedAfterMs, 'the connection was still open').toBeDefined()
    // Not early: the server's clock starts at its accept, a little before the client's 'connect' in this same event loop.
    expect(closedAfterMs).toBeGreaterThanOrEqual(limits.headersTimeoutMs / 2)
    expect(closedAfterMs).toBeLessThan(limits.headersTimeoutMs + bound())
    expect(response).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('closes a connection that trickles its body with 408 once requestTimeoutMs has passed', async () => {
    h = await startHarness({ connectionLimits: limits })
    const head = `POST /v1/endpoints HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKENS.tenantA}\r\ncontent-type: application/json\r\ncontent-length: 10000\r\n\r\n{`
    const { closedAfterMs, response } = await trickle(h.api.port, head, ' ', 100, limits.requestTimeoutMs + scaled(10_000))
    expect(closedAfterMs, 'the connection was still open').toBeDefined()
    // Not early: the server's clock starts at its accept, a little before the client's 'connect' in this same event loop.
    expect(closedAfterMs).toBeGreaterThanOrEqual(limits.requestTimeoutMs / 2)
    expect(closedAfterMs).toBeLessThan(limits.requestTimeoutMs + bound())
    expect(response).toMatch(/^HTTP\/1\.1 408 /)
    expect(h.store.all()).toHaveLength(0)
  })

  it('closes connections past maxConnections as they arrive, and serves again once one closes', async () => {
    h = await startHarness({ connectionLimits: { maxConnections: 2 } })
    const open: Socket[] = []
    for (let i = 0; i < 2; i++) {
      const socket = connect(h.api.port, '127.0.0.1')
      socket.on('error', () => {})
      await once(socket, 'connect')
      open.push(socket)
    }
    const harness = h
    await waitUntil('the server counts both connections', async () => await new Promise<boolean>((resolve) => harness.api.server.getConnections((_err, n) => resolve(n === 2))), { timeoutMs: 5000, intervalMs: 20 })
    const third = await trickle(h.api.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n', '', 1000, scaled(5000))
    expect(third.closedAfterMs, 'the third connection was served').toBeDefined()
    expect(third.response).toBe('')
    expect(open.every((s) => !s.destroyed)).toBe(true)
    open[0]?.destroy()
    await waitUntil('a connection is free', async () => await new Promise<boolean>((resolve) => harness.api.server.getConnections((_err, n) => resolve(n < 2))), { timeoutMs: 5000, intervalMs: 20 })
    expect((await call(h, 'GET', '/healthz', { token: null })).status).toBe(200)
    for (const s of open) s.destroy()
  })

  it('checks the deadlines at a tenth of the shorter one, between 50 ms and 1 s', () => {
    expect(connectionsCheckingIntervalMs({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 })).toBe(1000)
    expect(connectionsCheckingIntervalMs({ headersTimeoutMs: 600, requestTimeoutMs: 1200 })).toBe(60)
    expect(connectionsCheckingIntervalMs({ headersTimeoutMs: 100, requestTimeoutMs: 100 })).toBe(50)
  })
})

describe('audit log', () => {
  it('finds duplicate keys (the checker itself)', () => {
    expect(duplicateKeys('{"a":1,"b":{"a":2},"c":"\\"a\\":","a":3}')).toEqual(['a'])
    expect(duplicateKeys('{"a":[{"b":1},{"b":2}]}')).toEqual([])
  })

  it('writes every line with unique keys, module once, and the client address, also from a logger that already names a module', async () => {
    const output = new PassThrough()
    let logged = ''
    output.on('data', (chunk: Buffer) => { logged += chunk.toString('utf8') })
    // As main.ts wired it before: a child logger with module set.
    h = await startHarness({ logger: createLogger('debug', output).child({ module: 'admin-api' }) })
    await createEndpoint(h, 'tenantA', endpointBody())
    await call(h, 'GET', '/v1/endpoints', { token: null })
    const lines = logged.trim().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(2)
    for (const line of lines) {
      expect(duplicateKeys(line), line).toEqual([])
      expect(JSON.parse(line)).toMatchObject({ module: 'admin-api', remoteAddress: '127.0.0.1' })
    }
  })
})

describe('TLS', () => {
  let server: AdminServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('serves HTTPS with the configured certificate, and nothing over plain HTTP', async () => {
    const pki = await testPki()
    const app = createAdminApi({
      store: new MemorySubscriptionStore({ ssrf: createSsrfPolicy({ allowCidrs: [], allowHttp: false }) }),
      tokens: parseAdminTokens(`${TOKENS.tenantA}:${TENANT_A}`),
      deadLetters: { list: async () => ({ items: [], total: 0, countByReason: {}, countByState: {} }), redrive: async () => ({ scanned: 0, matched: 0, redriven: 0, skipped: 0, complete: true }) },
      sendTestEvent: async () => ({ status: 204, durationMs: 1 }),
      endpointStatus: () => ({ recentSuccesses: 0, recentFailures: 0, circuit: 'closed' }),
      tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem }
    })
    server = await startAdminServer(app, { port: 0, host: '127.0.0.1' })
    const port = server.port
    const answer = await new Promise<{ status: number, body: string, peer: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/v1/endpoints', ca: pki.ca.certPem, servername: 'localhost', headers: { authorization: `Bearer ${TOKENS.tenantA}` } }, (res) => {
        let body = ''
        const peer = (res.socket as unknown as { getPeerCertificate: () => { subject: { CN: string } } }).getPeerCertificate().subject.CN
        res.on('data', (c: Buffer) => { body += c.toString() })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peer }))
      })
      req.on('error', reject)
      req.end()
    })
    expect(answer).toMatchObject({ status: 200, peer: pki.server.commonName })
    expect(JSON.parse(answer.body)).toEqual({ items: [] })
    // A certificate nobody trusts is refused by the client: the server really presents this one.
    await expect(new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/healthz', ca: pki.foreignCa.certPem, servername: 'localhost' }, resolve)
      req.on('error', reject)
      req.end()
    })).rejects.toThrow()
    // Plain HTTP on the TLS port gets no HTTP answer.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow()
  })
})
