// Debian's chromium driven by playwright-core (which downloads no browser):
// CHROMIUM_PATH, else the first of the usual paths; a clear failure names
// the install command when there is none.
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export function chromiumPath (): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => p !== undefined && p !== '')
  const found = candidates.find((path) => existsSync(path))
  if (found === undefined) throw new Error('No chromium for the browser tests: apt-get install -y chromium (or set CHROMIUM_PATH)')
  return found
}

export async function launchChromium (): Promise<Browser> {
  // --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
  return await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}
