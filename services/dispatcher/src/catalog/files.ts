// The committed form of the catalog: file name under docs/ → text.
import { eventCatalog } from './catalog.js'
import { catalogMarkdown } from './markdown.js'
import { webhooksOpenApi } from './webhooks-openapi.js'

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`

export function catalogFiles (): Record<string, string> {
  const catalog = eventCatalog()
  return {
    'event-catalog.json': json({ eventTypes: catalog }),
    'webhooks.openapi.json': json(webhooksOpenApi(catalog)),
    'event-catalog.md': catalogMarkdown(catalog)
  }
}
