// GET /v1/event-types: the event catalog (catalog/catalog.ts), the same for
// every tenant: it describes the bodies, not anyone's events.
import { Type } from '@sinclair/typebox'
import { eventCatalog } from '../../catalog/catalog.js'
import type { Handler } from './context.js'

export type CatalogOperationId = 'listEventTypes'

export const EventTypeListSchema = Type.Object({
  eventTypes: Type.Array(Type.Object({
    type: Type.String({ description: 'The event type, e.g. transaction.posted: the body\'s type, and what endpoint filters match.' }),
    family: Type.String({ description: 'The Avro record (transactions, accounts, fraud) it comes from; dispatcher for webhook.test.' }),
    description: Type.String(),
    schema: Type.Object({}, { additionalProperties: true, description: 'JSON Schema (draft 2020-12) of the whole webhook body.' }),
    example: Type.Unknown({ description: 'A body as a receiver gets it.' })
  }))
}, { $id: 'EventTypeList', description: 'Every event type a webhook can carry, generated from the Avro schemas.' })

export function catalogHandlers (): Record<CatalogOperationId, Handler> {
  return {
    listEventTypes: async () => ({ status: 200, body: { eventTypes: eventCatalog() } })
  }
}
