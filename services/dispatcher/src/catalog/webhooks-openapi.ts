// The catalog as an OpenAPI 3.1 document with a `webhooks` section: one
// operation per event type, the request a receiver gets (headers, body
// schema, example) and what its answers mean, so receivers can generate
// types with any OpenAPI 3.1 tool.
import type { EventTypeEntry } from './catalog.js'
import type { JsonSchema } from './avro-json-schema.js'

const header = (description: string, schema: JsonSchema = { type: 'string' }): JsonSchema => ({ required: true, description, schema })

const HEADERS: Record<string, JsonSchema> = {
  'webhook-id': header('The event id (the body\'s id): the same on every attempt and redelivery. Dedupe on it.'),
  'webhook-timestamp': header('Unix seconds when this attempt was signed. Refuse attempts older than your tolerance (5 minutes in the Standard Webhooks libraries).', { type: 'string', pattern: '^[0-9]+$' }),
  'webhook-signature': header('Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`: one per secret signing now (two during a rotation). Verify with a Standard Webhooks library.')
}

const RESPONSES = {
  '2XX': { description: 'Taken: the event counts as delivered.' },
  410: { description: 'Gone: the endpoint is disabled at once; this and later events are dead-lettered as endpoint-disabled until someone enables it again.' },
  default: { description: 'Anything else (including 3xx, 408, 429, 5xx, timeouts): retried with backoff, honouring retry-after; later events of the same account wait behind it.' }
}

/** The OpenAPI 3.1 document of the webhooks the catalog lists. */
export function webhooksOpenApi (catalog: readonly EventTypeEntry[]): Record<string, unknown> {
  const webhooks: Record<string, unknown> = {}
  for (const entry of catalog) {
    const { $schema: _, ...schema } = entry.schema
    webhooks[entry.type] = {
      post: {
        operationId: entry.type.replace(/[._](\w)/g, (__, c: string) => c.toUpperCase()),
        summary: entry.type,
        description: entry.description,
        tags: [entry.family],
        parameters: Object.entries(HEADERS).map(([name, spec]) => ({ name, in: 'header', ...spec })),
        requestBody: { required: true, content: { 'application/json': { schema, example: entry.example } } },
        responses: RESPONSES
      }
    }
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Banking event webhooks',
      version: '1.0.0',
      description: 'The webhooks the dispatcher sends: Standard Webhooks v1 (signed POSTs, `content-type: application/json`). Generated from the Avro schemas by `make catalog`; see docs/integrator-guide.md.'
    },
    webhooks
  }
}
