// The portal's files, served by the dispatcher under /portal (no separate
// server): the pages and stylesheet from services/portal/static and the
// modules tsc compiled from services/portal/src, read once into memory.
// Every answer carries a strict Content-Security-Policy: scripts only from
// this origin (no inline script, no eval), no framing, no third parties.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PORTAL_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"
].join('; ')

export const PORTAL_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': PORTAL_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin'
})

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' }

export interface PortalFile { body: Buffer, type: string }

function collect (root: string, into: Map<string, PortalFile>): void {
  if (!existsSync(root)) return
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (TYPES[extname(name)] !== undefined) into.set(relative(root, path).split('\\').join('/'), { body: readFileSync(path), type: TYPES[extname(name)] as string })
    }
  }
  walk(root)
}

/**
 * The portal's files by path under /portal/: `index.html`, `portal.css`,
 * `app.js`, `pages/endpoints.js`, …; empty when the portal was not built
 * (`npm run build` compiles and copies it).
 */
export function loadPortalFiles (root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../portal')): ReadonlyMap<string, PortalFile> {
  const files = new Map<string, PortalFile>()
  collect(join(root, 'static'), files)
  collect(join(root, 'src'), files)
  return files
}
