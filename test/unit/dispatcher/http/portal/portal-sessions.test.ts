import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryPortalLedger } from '../../../../../services/dispatcher/src/portal/ledger.js'
import { call, createEndpoint, endpointBody, startHarness, TENANT_A, type Harness } from '../harness.js'

const key = randomBytes(32)
let harness: Harness

beforeAll(async () => {
  let clockOffset = 0
  // One clock (advance) drives link and session expiry and the ledger.
  const now = (): number => Date.parse('2025-01-15T10:00:00Z') + clockOffset
  harness = await startHarness({
    portal: { key, ledger: new MemoryPortalLedger(now), linkTtlSeconds: 600, sessionTtlSeconds: 3600, secureCookie: false },
    now
  })
  harness.advance = (ms) => { clockOffset += ms }
})
afterAll(async () => { await harness.close() })

async function mint (tenantId = TENANT_A): Promise<{ id: string, url: string, path: string }> {
  const minted = await call(harness, 'POST', '/v1/portal-sessions', { body: { tenantId } })
  expect(minted.status, minted.text).toBe(201)
  return minted.body
}

const linkOf = (path: string): string => path.slice(path.indexOf('#') + 1)

async function exchange (link: string): Promise<{ status: number, code?: string, cookie?: string }> {
  const result = await call(harness, 'POST', '/v1/portal/sign-in', { token: null, body: { link } })
  const setCookie = result.headers.get('set-cookie') ?? undefined
  return { status: result.status, code: result.body?.error?.code, cookie: setCookie?.split(';')[0] }
}

const asPortal = (cookie: string, extra: Record<string, string> = {}): { token: null, headers: Record<string, string> } =>
  ({ token: null, headers: { cookie, 'x-portal-request': '1', ...extra } })

describe('portal sessions', () => {
  it('mints a one-time link into the fragment of the sign-in page, on the origin the operator called', async () => {
    const { url, path, id } = await mint()
    expect(id).toMatch(/^ps_/)
    expect(path).toMatch(/^\/portal\/sign-in\.html#whpl\./)
    expect(url).toBe(`${harness.base}${path}`)
  })

  it('signs in once: the cookie is HttpOnly and SameSite=Strict, scoped to the link\'s tenant; the link then answers WHD_ERR_PORTAL_LINK_USED', async () => {
    const { path } = await mint()
    const mine = await createEndpoint(harness, 'tenantA', endpointBody())
    const theirs = await createEndpoint(harness, 'tenantB', endpointBody())
    const first = await call(harness, 'POST', '/v1/portal/sign-in', { token: null, body: { link: linkOf(path) } })
    expect(first.status).toBe(200)
    expect(first.headers.get('set-cookie')).toMatch(/^whd_portal=whps\.[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/)
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    const listed = await call(harness, 'GET', '/v1/endpoints', asPortal(cookie))
    expect(listed.status).toBe(200)
    const ids = (listed.body.items as Array<{ id: string }>).map((e) => e.id)
    expect(ids).toContain(mine.endpoint.id)
    expect(ids).not.toContain(theirs.endpoint.id)
    expect((await call(harness, 'GET', `/v1/endpoints/${theirs.endpoint.id}`, asPortal(cookie))).status).toBe(404)
    expect((await call(harness, 'GET', '/v1/portal/session', asPortal(cookie))).body).toMatchObject({ kind: 'portal-session', tenantId: TENANT_A })
    expect(await exchange(linkOf(path))).toMatchObject({ status: 401, code: 'WHD_ERR_PORTAL_LINK_USED', cookie: undefined })
  })

  it('refuses an expired link (WHD_ERR_PORTAL_LINK_EXPIRED), a forged one (WHD_ERR_PORTAL_LINK_INVALID), and ends the session at its expiry', async () => {
    const late = await mint()
    const used = await mint()
    const { cookie } = await exchange(linkOf(used.path))
    harness.advance(601_000)
    expect(await exchange(linkOf(late.path))).toMatchObject({ status: 401, code: 'WHD_ERR_PORTAL_LINK_EXPIRED' })
    const fresh = linkOf((await mint()).path)
    const forged = `${fresh.slice(0, -4)}AAAA`
    expect(await exchange(forged)).toMatchObject({ status: 401, code: 'WHD_ERR_PORTAL_LINK_INVALID' })
    expect(await exchange(`whps.${fresh.split('.')[1]!}.${fresh.split('.')[2]!}`)).toMatchObject({ status: 401, code: 'WHD_ERR_PORTAL_LINK_INVALID' })
    expect((await call(harness, 'GET', '/v1/endpoints', asPortal(cookie!))).status).toBe(200)
    harness.advance(3600_000)
    const ended = await call(harness, 'GET', '/v1/endpoints', asPortal(cookie!))
    expect([ended.status, ended.body.error.code]).toEqual([401, 'WHD_ERR_PORTAL_SESSION_ENDED'])
  })

  it('revokes a session and its link: the cookie answers WHD_ERR_PORTAL_SESSION_ENDED, an unused link WHD_ERR_PORTAL_LINK_REVOKED', async () => {
    const signedIn = await mint()
    const { cookie } = await exchange(linkOf(signedIn.path))
    const unused = await mint()
    expect((await call(harness, 'DELETE', `/v1/portal-sessions/${signedIn.id}`)).status).toBe(204)
    expect((await call(harness, 'DELETE', `/v1/portal-sessions/${unused.id}`)).status).toBe(204)
    const ended = await call(harness, 'GET', '/v1/endpoints', asPortal(cookie!))
    expect([ended.status, ended.body.error.code]).toEqual([401, 'WHD_ERR_PORTAL_SESSION_ENDED'])
    expect(await exchange(linkOf(unused.path))).toMatchObject({ status: 401, code: 'WHD_ERR_PORTAL_LINK_REVOKED' })
  })

  it('refuses cookie calls without the portal header or from another origin (CSRF), and never lets a session mint or revoke others', async () => {
    const other = await mint()
    const { cookie } = await exchange(linkOf((await mint()).path))
    const noHeader = await call(harness, 'POST', '/v1/endpoints', { token: null, headers: { cookie: cookie! }, body: endpointBody() })
    expect([noHeader.status, noHeader.body.error.code]).toEqual([403, 'WHD_ERR_FORBIDDEN'])
    const foreign = await call(harness, 'POST', '/v1/endpoints', { ...asPortal(cookie!, { origin: 'https://evil.example' }), body: endpointBody() })
    expect(foreign.status).toBe(403)
    expect((await call(harness, 'GET', '/v1/portal/session', asPortal(cookie!, { origin: harness.base }))).status).toBe(200)
    expect((await call(harness, 'POST', '/v1/portal-sessions', { ...asPortal(cookie!), body: { tenantId: TENANT_A } })).status).toBe(403)
    expect((await call(harness, 'DELETE', `/v1/portal-sessions/${other.id}`, asPortal(cookie!))).status).toBe(403)
    expect((await call(harness, 'DELETE', `/v1/portal-sessions/${other.id}`, { token: 'tenantA' })).status).toBe(403)
  })

  it('signs out: a session revokes itself and clears its cookie', async () => {
    const { id, path } = await mint()
    const { cookie } = await exchange(linkOf(path))
    const out = await call(harness, 'DELETE', `/v1/portal-sessions/${id}`, asPortal(cookie!))
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/^whd_portal=; .*Max-Age=0/)
    expect((await call(harness, 'GET', '/v1/endpoints', asPortal(cookie!))).status).toBe(401)
  })

  it('lets a tenant token mint for its own tenant only, and an operator token must name one', async () => {
    expect((await call(harness, 'POST', '/v1/portal-sessions', { token: 'tenantA', body: {} })).status).toBe(201)
    expect((await call(harness, 'POST', '/v1/portal-sessions', { token: 'tenantA', body: { tenantId: 'tenant-b' } })).status).toBe(403)
    const missing = await call(harness, 'POST', '/v1/portal-sessions', { body: {} })
    expect([missing.status, missing.body.error.field]).toEqual([400, 'tenantId'])
  })
})

describe('portal sessions, portal off', () => {
  it('answers 404 to minting without PORTAL_SESSION_KEY, and a cookie is no credential', async () => {
    const plain = await startHarness()
    try {
      expect((await call(plain, 'POST', '/v1/portal-sessions', { body: { tenantId: TENANT_A } })).status).toBe(404)
      expect((await call(plain, 'GET', '/v1/endpoints', { token: null, headers: { cookie: 'whd_portal=whps.x.y', 'x-portal-request': '1' } })).status).toBe(401)
    } finally {
      await plain.close()
    }
  })
})

describe('portal sessions behind a proxy (PORTAL_PUBLIC_URL)', () => {
  it('names the public origin in links, and accepts calls from it as same-origin', async () => {
    const proxied = await startHarness({ portal: { key, ledger: new MemoryPortalLedger(), secureCookie: false, publicUrl: 'https://admin.bank.example' } })
    try {
      const minted = await call(proxied, 'POST', '/v1/portal-sessions', { body: { tenantId: TENANT_A } })
      expect(minted.body.url).toMatch(/^https:\/\/admin\.bank\.example\/portal\/sign-in\.html#whpl\./)
      const signedIn = await call(proxied, 'POST', '/v1/portal/sign-in', { token: null, body: { link: linkOf(minted.body.path as string) } })
      const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!
      expect((await call(proxied, 'GET', '/v1/portal/session', asPortal(cookie, { origin: 'https://admin.bank.example' }))).status).toBe(200)
      expect((await call(proxied, 'GET', '/v1/portal/session', asPortal(cookie, { origin: 'https://other.bank.example' }))).status).toBe(403)
    } finally {
      await proxied.close()
    }
  })
})
