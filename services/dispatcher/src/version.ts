import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The project's package.json sits above this module both in the source tree
// and in dist/ (and in the image's /app), at different depths: walk up to it.
function readVersion (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'kafka-webhook-dispatcher' && typeof pkg.version === 'string') return pkg.version
    }
    dir = dirname(dir)
  }
  return '0.0.0'
}

/** The dispatcher's version, sent in the User-Agent of every webhook. */
export const VERSION = readVersion()
