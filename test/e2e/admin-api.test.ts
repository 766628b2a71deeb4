// The admin API end to end (DESIGN §6, C6): a dispatcher child process on a
// real Kafka and registry, endpoints managed only through its HTTP API, and
// webhooks checked with the official Standard Webhooks library.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  adminClient,
  createAdminScenario,
  groupCaughtUp,
  TENANT_0,
  TENANT_1,
  verifies,
  type AdminScenario,
  type RawWebhook,
  type SigningReceiver
} from '../support/admin-client.js'
import { duplicateKeys } from '../support/json-keys.js'
import { checkDeliveries, type ProducedEvent } from '../support/oracle.js'
import { testPki } from '../support/tls-certs.js'
import { waitUntil } from '../support/wait.js'

/** Each request's first receipt for the given events, once all have arrived. */
async function awaitRequests (receiver: SigningReceiver, events: readonly ProducedEvent[]): Promise<RawWebhook[]> {
  const ids = new Set(events.map((e) => e.eventId))
  return await waitUntil(`${ids.size} webhooks`, () => {
    const first = new Map<string, RawWebhook>()
    for (const r of receiver.requests) if (ids.has(r.webhookId) && !first.has(r.webhookId)) first.set(r.webhookId, r)
    return first.size === ids.size ? [...first.values()] : undefined
  }, { timeoutMs: 30_000 })
}

const signatures = (request: RawWebhook): string[] => request.signature.split(' ')

describe('admin API end to end', () => {
  let scenario: AdminScenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('rotates a secret: old and new both sign during the grace period, only the newest once it ends or without grace', async () => {
    const s = scenario = await createAdminScenario({ partitions: 2 })
    const dispatcher = await s.start()
    const api = adminClient(dispatcher.adminUrl, s.tokens.tenant0)
    const receiver = await s.receiver()
    const { endpoint, secret: s1 } = await api.createEndpoint({ url: receiver.url, eventTypes: ['transaction.*'] })
    expect(s1).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
    expect(endpoint.activeSecrets).toBe(1)
    receiver.setSecrets([s1])
    const path = `/v1/endpoints/${endpoint.id}`

    // Before any rotation: one signature, by S1.
    const before = await s.feed.publishTransactions(s.source, { count: 20, accounts: 5 })
    for (const r of await awaitRequests(receiver, before)) {
      expect(signatures(r)).toHaveLength(1)
      expect(verifies(r, s1)).toBe(true)
    }

    const rotated = await api.request<{ endpoint: { activeSecrets: number }, secret: string, graceSeconds: number, previousSecretsExpireAt: string }>('POST', `${path}/rotate-secret`, { graceSeconds: 30 })
    expect(rotated.status).toBe(200)
    const s2 = rotated.body.secret
    expect(s2).toMatch(/^whsec_/)
    expect(s2).not.toBe(s1)
    expect(rotated.body.graceSeconds).toBe(30)
    expect(rotated.body.endpoint.activeSecrets).toBe(2)
    expect(Math.abs(Date.parse(rotated.body.previousSecretsExpireAt) - (Date.now() + 30_000))).toBeLessThan(10_000)
    expect((await api.request('GET', `${path}/secret`)).body).toEqual({ secrets: [s2, s1] })
    // Only the dedicated calls reveal secrets; get and list never do.
    const got = await api.request('GET', path)
    const listed = await api.request('GET', '/v1/endpoints')
    for (const body of [got.body, listed.body]) {
      const text = JSON.stringify(body)
      expect(text).toContain(endpoint.id)
      expect(text).not.toContain(s1)
      expect(text).not.toContain(s2)
      expect(text).not.toContain('whsec_')
    }
    expect(got.body).toMatchObject({ id: endpoint.id, activeSecrets: 2 })

    // During the grace period: two signatures, one by each secret.
    receiver.setSecrets([s1, s2])
    const during = await s.feed.publishTransactions(s.source, { count: 20, accounts: 5 })
    for (const r of await awaitRequests(receiver, during)) {
      const sigs = signatures(r)
      expect(sigs).toHaveLength(2)
      expect(sigs.every((sig) => sig.startsWith('v1,'))).toBe(true)
      const signers = sigs.map((sig) => [s1, s2].filter((secret) => verifies(r, secret, sig)))
      expect(signers).toEqual(expect.arrayContaining([[s1], [s2]]))
      expect(verifies(r, s1)).toBe(true)
      expect(verifies(r, s2)).toBe(true)
    }

    // A rotation without grace: S3 alone signs from now on.
    const again = await api.request<{ secret: string, endpoint: { activeSecrets: number } }>('POST', `${path}/rotate-secret`, { graceSeconds: 0 })
    expect(again.status).toBe(200)
    const s3 = again.body.secret
    expect(again.body.endpoint.activeSecrets).toBe(1)
    expect((await api.request('GET', `${path}/secret`)).body).toEqual({ secrets: [s3] })
    // The receiver accepts any of the three; each request is then held against each.
    receiver.setSecrets([s1, s2, s3])
    const after = await s.feed.publishTransactions(s.source, { count: 20, accounts: 5 })
    for (const r of await awaitRequests(receiver, after)) {
      expect(signatures(r)).toHaveLength(1)
      expect(verifies(r, s3)).toBe(true)
      expect(verifies(r, s2)).toBe(false)
      expect(verifies(r, s1)).toBe(false)
    }

    // A short grace: S3 stops signing by itself when the grace ends.
    const short = await api.request<{ secret: string, endpoint: { activeSecrets: number } }>('POST', `${path}/rotate-secret`, { graceSeconds: 2 })
    expect(short.status).toBe(200)
    const s4 = short.body.secret
    expect(short.body.endpoint.activeSecrets).toBe(2)
    await waitUntil('the short grace ends', async () => ((await api.request<{ secrets: string[] }>('GET', `${path}/secret`)).body.secrets.length === 1), { timeoutMs: 10_000 })
    expect((await api.request('GET', `${path}/secret`)).body).toEqual({ secrets: [s4] })
    expect((await api.getEndpoint(endpoint.id))?.activeSecrets).toBe(1)
    receiver.setSecrets([s1, s2, s3, s4])
    const expired = await s.feed.publishTransactions(s.source, { count: 20, accounts: 5 })
    for (const r of await awaitRequests(receiver, expired)) {
      expect(signatures(r)).toHaveLength(1)
      expect(verifies(r, s4)).toBe(true)
      expect(verifies(r, s3)).toBe(false)
    }

    const report = checkDeliveries([...before, ...during, ...after, ...expired], [{ id: endpoint.id, tenantId: TENANT_0, matches: () => true, accepted: receiver.accepted() }])
    expect(report).toMatchObject({ expected: 80, missing: [], orderViolations: [], unexpected: [], duplicates: 0 })
    expect(receiver.badSignatures()).toBe(0)
  }, 90_000)

  it('keeps tenants apart: tokens reach only their own tenant\'s endpoints, events only their own tenant\'s endpoints (C6)', async () => {
    const s = scenario = await createAdminScenario({ partitions: 2 })
    const dispatcher = await s.start()
    const asTenant0 = adminClient(dispatcher.adminUrl, s.tokens.tenant0)
    const asTenant1 = adminClient(dispatcher.adminUrl, s.tokens.tenant1)
    const asOperator = adminClient(dispatcher.adminUrl, s.tokens.operator)
    const receiver0 = await s.receiver()
    const receiver1 = await s.receiver()

    const a = await asTenant0.createEndpoint({ url: receiver0.url, eventTypes: ['*'] })
    expect(a.endpoint.tenantId).toBe(TENANT_0)
    receiver0.setSecrets([a.secret])
    // A tenant token cannot create for another tenant.
    const forged = await asTenant0.request('POST', '/v1/endpoints', { tenantId: TENANT_1, url: receiver1.url, eventTypes: ['*'] })
    expect(forged.status).toBe(403)
    expect(forged.body.error?.code).toBe('WHD_ERR_FORBIDDEN')
    // Naming its own tenant is allowed; an operator must name one.
    const b = await asTenant1.createEndpoint({ tenantId: TENANT_1, url: receiver1.url, eventTypes: ['*'] })
    expect(b.endpoint.tenantId).toBe(TENANT_1)
    receiver1.setSecrets([b.secret])
    const unnamed = await asOperator.request('POST', '/v1/endpoints', { url: receiver1.url, eventTypes: ['*'] })
    expect(unnamed.status).toBe(400)
    expect(unnamed.body.error?.field).toBe('tenantId')

    // Another tenant's endpoint answers exactly as an unknown id does.
    const unknown = await asTenant1.request('GET', '/v1/endpoints/no-such-endpoint')
    expect(unknown.status).toBe(404)
    const probes: Array<[string, string, unknown?]> = [
      ['GET', ''],
      ['PATCH', '', { description: 'taken over' }],
      ['DELETE', ''],
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['POST', '/disable'],
      ['POST', '/enable'],
      ['POST', '/rotate-secret', { graceSeconds: 0 }],
      ['GET', '/secret'],
      ['POST', '/test'],
      ['GET', '/status']
    ]
    for (const [method, suffix, body] of probes) {
      for (const [client, target] of [[asTenant1, a], [asTenant0, b]] as const) {
        const res = await client.request(method, `/v1/endpoints/${target.endpoint.id}${suffix}`, body)
        expect({ probe: `${method} ${suffix}`, status: res.status, body: res.body }).toEqual({ probe: `${method} ${suffix}`, status: 404, body: unknown.body })
      }
    }
    expect(receiver0.requests).toHaveLength(0)
    expect(receiver1.requests).toHaveLength(0)

    // Lists: each tenant its own, the operator both (or one tenant on request).
    expect((await asTenant0.listEndpoints()).map((e) => e.id)).toEqual([a.endpoint.id])
    expect((await asTenant1.listEndpoints()).map((e) => e.id)).toEqual([b.endpoint.id])
    const peek = await asTenant1.request('GET', `/v1/endpoints?tenantId=${TENANT_0}`)
    expect(peek.status).toBe(403)
    expect((await asOperator.listEndpoints()).map((e) => e.id).sort()).toEqual([a.endpoint.id, b.endpoint.id].sort())
    expect((await asOperator.listEndpoints({ tenantId: TENANT_0 })).map((e) => e.id)).toEqual([a.endpoint.id])
    // The probes changed nothing.
    for (const { endpoint, secret } of [a, b]) {
      expect(await asOperator.getEndpoint(endpoint.id)).toEqual(endpoint)
      expect((await asOperator.request('GET', `/v1/endpoints/${endpoint.id}/secret`)).body).toEqual({ secrets: [secret] })
    }

    const produced = await s.feed.publishTransactions(s.source, { count: 200, accounts: 20, tenants: 2 })
    const subscriptions = [
      { id: a.endpoint.id, tenantId: TENANT_0, matches: () => true, receiver: receiver0 },
      { id: b.endpoint.id, tenantId: TENANT_1, matches: () => true, receiver: receiver1 }
    ]
    const check = (): ReturnType<typeof checkDeliveries> => checkDeliveries(produced, subscriptions.map((sub) => ({ ...sub, accepted: sub.receiver.accepted() })))
    await waitUntil('both tenants have their events', () => check().missing.length === 0, { timeoutMs: 30_000 })
    await waitUntil('every record consumed', () => groupCaughtUp(s.group, s.source), { timeoutMs: 30_000 })
    const report = check()
    expect(report).toMatchObject({ expected: 200, missing: [], orderViolations: [], unexpected: [] })
    // Each receiver verifies with its own endpoint's secret only: another
    // tenant's event, signed with the other secret, would count here.
    expect(receiver0.badSignatures()).toBe(0)
    expect(receiver1.badSignatures()).toBe(0)
    // Accounts of tenant-000 have even numbers, those of tenant-001 odd ones.
    const parities = (receiver: SigningReceiver): Set<number> => new Set(receiver.accepted().map((r) => Number(r.accountId.slice('acc-'.length)) % 2))
    expect(parities(receiver0)).toEqual(new Set([0]))
    expect(parities(receiver1)).toEqual(new Set([1]))
  }, 90_000)

  it('sends a signed webhook.test on request and reports recent deliveries and the circuit in the status', async () => {
    const s = scenario = await createAdminScenario({ partitions: 2 })
    const dispatcher = await s.start()
    const api = adminClient(dispatcher.adminUrl, s.tokens.tenant0)
    const receiver = await s.receiver()
    const { endpoint, secret } = await api.createEndpoint({ url: receiver.url, eventTypes: ['transaction.posted'] })
    receiver.setSecrets([secret])
    const path = `/v1/endpoints/${endpoint.id}`

    const idle = await api.request('GET', `${path}/status`)
    expect(idle.status).toBe(200)
    expect(idle.body).toMatchObject({ id: endpoint.id, state: 'enabled', circuit: 'closed', recentSuccesses: 0, recentFailures: 0 })

    // 40 events over 4 accounts, the event type changing each round of
    // accounts: rounds 1, 5 and 9 are transaction.posted.
    const produced = await s.feed.publishTransactions(s.source, { count: 40, accounts: 4 })
    const posted = produced.filter((e) => e.eventType === 'transaction.posted')
    expect(posted).toHaveLength(12)
    await waitUntil('posted events delivered', () => receiver.accepted().length >= posted.length, { timeoutMs: 30_000 })
    await waitUntil('every record consumed', () => groupCaughtUp(s.group, s.source), { timeoutMs: 30_000 })
    const report = checkDeliveries(produced, [{ id: endpoint.id, tenantId: TENANT_0, matches: (type) => type === 'transaction.posted', accepted: receiver.accepted() }])
    expect(report).toMatchObject({ expected: 12, missing: [], unexpected: [], orderViolations: [] })
    const busy = await api.request('GET', `${path}/status`)
    expect(busy.body).toMatchObject({ id: endpoint.id, state: 'enabled', circuit: 'closed', recentSuccesses: 12, recentFailures: 0 })
    expect(busy.body.lastError).toBeUndefined()
    expect(Math.abs(Date.parse(String(busy.body.lastAttemptAt)) - Date.now())).toBeLessThan(60_000)

    // The test event, answered 503 first, then 204: the API reports delivered
    // or not with a coarse reason, never the status (issue 13 item 5).
    receiver.setStatus(503)
    const refused = await api.request('POST', `${path}/test`)
    expect(refused.status).toBe(200)
    expect(refused.body).toEqual({ delivered: false, reason: 'rejected' })
    receiver.setStatus(204)
    const sent = await api.request('POST', `${path}/test`)
    expect(sent.status).toBe(200)
    expect(sent.body).toEqual({ delivered: true })

    const tests = receiver.requests.filter((r) => (JSON.parse(r.body) as { type: string }).type === 'webhook.test')
    expect(tests).toHaveLength(2)
    const [first, second] = tests as [RawWebhook, RawWebhook]
    expect(first.webhookId).not.toBe(second.webhookId)
    for (const r of tests) {
      expect(verifies(r, secret)).toBe(true)
      expect(signatures(r)).toHaveLength(1)
      expect(Math.abs(Number(r.timestamp) * 1000 - Date.now())).toBeLessThan(60_000)
      const body = JSON.parse(r.body) as { type: string, timestamp: string, data: { subscriptionId: string } }
      expect(body.data.subscriptionId).toBe(endpoint.id)
      expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false)
    }
    // Only the two test requests and the twelve posted events reached the endpoint.
    expect(receiver.requests).toHaveLength(14)

    // Issue 13 item 9: each admin log line names its module once and the client's address.
    // The dispatcher's log reaches us through a pipe: on a loaded machine the
    // last lines may still be on their way when the requests have answered.
    const adminLines = await waitUntil('the admin requests logged', () => {
      const lines = dispatcher.output().split('\n').filter((line) => line.includes('"admin request"'))
      return lines.length >= 4 ? lines : undefined
    }, { timeoutMs: 15_000 })
    for (const line of adminLines) {
      expect(duplicateKeys(line), line).toEqual([])
      expect(JSON.parse(line)).toMatchObject({ module: 'admin-api', remoteAddress: '127.0.0.1' })
    }
  }, 90_000)

  it('serves the admin API over HTTPS with ADMIN_TLS_CERT_FILE and ADMIN_TLS_KEY_FILE (issue 13 item 9)', async () => {
    const pki = await testPki()
    const dir = await mkdtemp(join(tmpdir(), 'admin-tls-'))
    try {
      await writeFile(join(dir, 'tls.crt'), pki.server.certPem)
      await writeFile(join(dir, 'tls.key'), pki.server.keyPem)
      const s = scenario = await createAdminScenario({ partitions: 1 })
      const dispatcher = await s.start({ ADMIN_TLS_CERT_FILE: join(dir, 'tls.crt'), ADMIN_TLS_KEY_FILE: join(dir, 'tls.key') })
      const url = new URL(dispatcher.adminUrl)
      const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: url.hostname, port: url.port, path: '/v1/endpoints', ca: pki.ca.certPem, servername: 'localhost', headers: { authorization: `Bearer ${s.tokens.tenant0}` } }, (res) => {
          let body = ''
          res.on('data', (c: Buffer) => { body += c.toString() })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ items: [] })
      await expect(fetch(`${dispatcher.adminUrl}/healthz`)).rejects.toThrow()
      expect(dispatcher.output()).toMatch(/"msg":"admin API listening".*"tls":true|"tls":true.*"msg":"admin API listening"/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
