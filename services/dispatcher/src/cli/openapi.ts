/**
 * openapi: writes the admin API's OpenAPI document, generated from its
 * routes (@fastify/swagger), to the committed
 * services/dispatcher/src/http/openapi.json (or the path given). `make
 * openapi` runs it; a unit test fails while the committed file is stale.
 *
 *   node dist/services/dispatcher/src/cli/openapi.js [path]
 */
import { realpathSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { quietKafkajsTimerWarning } from '../../../events/src/index.js'
import { adminOpenApiDocument } from '../http/admin-api.js'

/** The file's text: two-space JSON and a final newline. */
export const renderOpenApiDocument = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`

function invokedDirectly (): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href
  } catch {
    return false
  }
}

if (invokedDirectly()) {
  quietKafkajsTimerWarning()
  const path = process.argv[2] ?? 'services/dispatcher/src/http/openapi.json'
  writeFileSync(path, renderOpenApiDocument(await adminOpenApiDocument()))
  process.stdout.write(`wrote ${path}\n`)
}
