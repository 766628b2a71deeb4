import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script
 * node was started with: a CLI that is also imported (by tests, by docs.ts)
 * runs only then. The entry is resolved through symlinks, as node does.
 */
export function invokedDirectly (moduleUrl: string): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return moduleUrl === pathToFileURL(realpathSync(entry)).href
  } catch {
    return false
  }
}
