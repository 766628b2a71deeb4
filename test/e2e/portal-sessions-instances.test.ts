// Portal sessions across dispatcher instances (several replicas behind one
// Service): a link minted on one signs in on another, once; the session
// works on every instance; a revocation through one instance ends it on
// the other.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, createAdminScenario, TENANT_0, type AdminScenario } from '../support/admin-client.js'
import type { DispatcherProcess } from '../support/dispatcher-process.js'
import { uniqueTopic } from '../support/kafka.js'
import { waitUntil } from '../support/wait.js'

describe('portal sessions over two instances', () => {
  let scenario: AdminScenario
  let a: DispatcherProcess
  let b: DispatcherProcess

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 2 })
    const env = { PORTAL_SESSION_KEY: randomBytes(32).toString('base64'), PORTAL_SESSIONS_TOPIC: uniqueTopic('e2e-portal-sessions') }
    a = await scenario.start(env)
    b = await scenario.start(env)
  })

  afterAll(async () => { await scenario?.close() })

  async function signIn (base: string, link: string): Promise<{ status: number, code?: string, cookie?: string }> {
    const response = await fetch(`${base}/v1/portal/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link }) })
    const body = await response.json() as { error?: { code: string } }
    return { status: response.status, code: body.error?.code, cookie: response.headers.get('set-cookie')?.split(';')[0] }
  }

  const asSession = async (base: string, cookie: string): Promise<{ status: number, code?: string }> => {
    const response = await fetch(`${base}/v1/portal/session`, { headers: { cookie, 'x-portal-request': '1' } })
    const body = await response.json() as { error?: { code: string } }
    return { status: response.status, code: body.error?.code }
  }

  it('signs in once across instances, and a revocation through one ends the session on both', async () => {
    const operatorA = adminClient(a.adminUrl, scenario.tokens.operator)
    const operatorB = adminClient(b.adminUrl, scenario.tokens.operator)
    const minted = await operatorA.request('POST', '/v1/portal-sessions', { tenantId: TENANT_0 })
    expect(minted.status).toBe(201)
    const { id, path } = minted.body as unknown as { id: string, path: string }
    const link = path.slice(path.indexOf('#') + 1)
    // Both instances at once: exactly one signs in.
    const [onA, onB] = await Promise.all([signIn(a.adminUrl, link), signIn(b.adminUrl, link)])
    expect([onA.status, onB.status].sort()).toEqual([200, 401])
    expect([onA.code, onB.code]).toContain('WHD_ERR_PORTAL_LINK_USED')
    const cookie = (onA.status === 200 ? onA.cookie : onB.cookie)!
    expect(await asSession(a.adminUrl, cookie)).toEqual({ status: 200, code: undefined })
    expect(await asSession(b.adminUrl, cookie)).toEqual({ status: 200, code: undefined })
    expect((await operatorB.request('DELETE', `/v1/portal-sessions/${id}`)).status).toBe(204)
    expect(await asSession(b.adminUrl, cookie)).toEqual({ status: 401, code: 'WHD_ERR_PORTAL_SESSION_ENDED' })
    await waitUntil('the revocation to reach the other instance', async () => (await asSession(a.adminUrl, cookie)).status === 401)
  })
})
