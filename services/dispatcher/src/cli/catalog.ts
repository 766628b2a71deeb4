/**
 * catalog: writes the event catalog, generated from schemas/*.avsc, under
 * docs/ (or the directory given): event-catalog.json (what GET
 * /v1/event-types answers), webhooks.openapi.json (OpenAPI 3.1 `webhooks`)
 * and event-catalog.md. `make catalog` runs it; a unit test fails while the
 * committed files are stale.
 *
 *   node dist/services/dispatcher/src/cli/catalog.js [directory]
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { quietKafkajsTimerWarning } from '../../../events/src/index.js'
import { catalogFiles } from '../catalog/files.js'
import { invokedDirectly } from './invoked-directly.js'

if (invokedDirectly(import.meta.url)) {
  quietKafkajsTimerWarning()
  const directory = process.argv[2] ?? 'docs'
  for (const [name, text] of Object.entries(catalogFiles())) {
    writeFileSync(join(directory, name), text)
    process.stdout.write(`wrote ${join(directory, name)}\n`)
  }
}
