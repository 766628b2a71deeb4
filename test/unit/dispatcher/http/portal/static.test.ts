import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadPortalFiles, PORTAL_CSP } from '../../../../../services/dispatcher/src/http/portal/static.js'
import { startHarness, type Harness } from '../harness.js'

const root = mkdtempSync(join(tmpdir(), 'whd-portal-'))
let harness: Harness

beforeAll(async () => {
  mkdirSync(join(root, 'static'))
  mkdirSync(join(root, 'src', 'pages'), { recursive: true })
  writeFileSync(join(root, 'static', 'index.html'), '<!doctype html><title>portal</title>')
  writeFileSync(join(root, 'static', 'portal.css'), 'body{}')
  writeFileSync(join(root, 'src', 'app.js'), 'export {}')
  writeFileSync(join(root, 'src', 'pages', 'endpoints.js'), 'export {}')
  writeFileSync(join(root, 'src', 'notes.txt'), 'not served')
  harness = await startHarness({ portalFiles: loadPortalFiles(root) })
})

afterAll(async () => {
  await harness.close()
  rmSync(root, { recursive: true, force: true })
})

describe('the portal\'s files', () => {
  it('are served under /portal without a token, with a strict CSP and their content types', async () => {
    const index = await fetch(`${harness.base}/portal/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(index.headers.get('content-security-policy')).toBe(PORTAL_CSP)
    expect(PORTAL_CSP).toContain("script-src 'self'")
    expect(PORTAL_CSP).not.toMatch(/unsafe-(inline|eval)/)
    expect(index.headers.get('x-frame-options')).toBe('DENY')
    expect(index.headers.get('referrer-policy')).toBe('no-referrer')
    expect((await fetch(`${harness.base}/portal/pages/endpoints.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await fetch(`${harness.base}/portal/portal.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8')
    const bare = await fetch(`${harness.base}/portal`, { redirect: 'manual' })
    expect([bare.status, bare.headers.get('location')]).toEqual([302, '/portal/'])
  })

  it('answer 404 for anything not in the portal (files are looked up by name in memory, never on disk)', async () => {
    for (const path of ['/portal/nope.js', '/portal/notes.txt', '/portal/src/app.js']) {
      expect((await fetch(`${harness.base}${path}`)).status, path).toBe(404)
    }
  })

  it('are not in the OpenAPI document', async () => {
    const document = await (await fetch(`${harness.base}/openapi.json`)).json() as { paths: Record<string, unknown> }
    expect(Object.keys(document.paths).filter((p) => p.startsWith('/portal'))).toEqual([])
  })
})
