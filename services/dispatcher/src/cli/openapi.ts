/**
 * openapi: writes the admin API's OpenAPI document, generated from its
 * routes (@fastify/swagger), to the committed
 * services/dispatcher/src/http/openapi.json (or the path given). `make
 * openapi` runs it; a unit test fails while the committed file is stale.
 *
 *   node dist/services/dispatcher/src/cli/openapi.js [path]
 */
import { writeFileSync } from 'node:fs'
import { quietKafkajsTimerWarning } from '../../../events/src/index.js'
import { adminOpenApiDocument } from '../http/admin-api.js'
import { invokedDirectly } from './invoked-directly.js'

/** The file's text: two-space JSON and a final newline. */
export const renderOpenApiDocument = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`

if (invokedDirectly(import.meta.url)) {
  quietKafkajsTimerWarning()
  const path = process.argv[2] ?? 'services/dispatcher/src/http/openapi.json'
  writeFileSync(path, renderOpenApiDocument(await adminOpenApiDocument()))
  process.stdout.write(`wrote ${path}\n`)
}
