// The event catalog (issue 18, DESIGN §12): per event type a description,
// the JSON Schema of the webhook body and an example body, built from the
// Avro schemas in schemas/ (the one source of truth) and rendered by the
// code that writes real bodies. `GET /v1/event-types` serves it, and
// `make catalog` commits it under docs/ with an OpenAPI `webhooks` document.
import { FAMILIES, FAMILY_NAMES, familySchema, validateEvent, type FamilyName } from '../../../events/src/index.js'
import { MONEY_FIELDS, toWebhookBody } from '../delivery/payload.js'
import { MONEY_NOTE, objectOf, type JsonSchema, type NamedTypes } from './avro-json-schema.js'
import { eventTypeDescriptions, familySummary } from './event-types.js'
import { EXAMPLE_EVENTS } from './examples.js'

/** The type of the test event `POST /v1/endpoints/{id}/test` sends. */
export const TEST_EVENT_TYPE = 'webhook.test'
/** The test event's `data.message`. */
export const TEST_EVENT_MESSAGE = 'Test event from the webhook dispatcher admin API'

export interface EventTypeEntry {
  /** `transaction.posted` */
  type: string
  /** The family (Avro record) it belongs to; `dispatcher` for `webhook.test`. */
  family: FamilyName | 'dispatcher'
  description: string
  /** JSON Schema (draft 2020-12) of the whole webhook body. */
  schema: JsonSchema
  /** A body as a receiver gets it. */
  example: unknown
}

const ENVELOPE_IN_DATA = new Set(['accountId', 'accountSequence'])
const ENVELOPE_ELSEWHERE = new Set(['eventId', 'eventType', 'occurredAt', 'tenantId'])

const ID_NOTE = 'The event id: equal to the webhook-id header, the same on every attempt and redelivery. Dedupe on it.'
const SEQUENCE_NOTE = 'Order per account by it: each account\'s events are numbered 1, 2, 3, … across all types; a jump means events in between have not arrived yet. An exact JSON integer, beyond 2^53 too.'

function bodySchema (type: string, description: string, data: JsonSchema): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `${type} webhook body`,
    description,
    type: 'object',
    required: ['id', 'type', 'timestamp', 'data'],
    properties: {
      id: { type: 'string', description: ID_NOTE },
      type: { const: type, description: 'The event type.' },
      timestamp: { type: 'string', format: 'date-time', description: 'When the event happened in core banking (ISO-8601, UTC), not when this attempt was sent.' },
      data
    }
  }
}

function familyEntries (family: FamilyName): EventTypeEntry[] {
  const record = familySchema(family)
  const named: NamedTypes = new Map()
  const namespace = record.namespace ?? ''
  const fields = record.fields.filter((field) => !ENVELOPE_ELSEWHERE.has(field.name))
  // accountId and accountSequence lead `data`, as payload.ts writes them.
  fields.sort((a, b) => Number(ENVELOPE_IN_DATA.has(b.name)) - Number(ENVELOPE_IN_DATA.has(a.name)))
  const { properties, required } = objectOf(fields, named, namespace, (field, schema) => {
    if (MONEY_FIELDS.has(field.name)) return { ...schema, description: `${field.doc ?? ''} ${MONEY_NOTE}`.trim() }
    if (field.name === 'accountSequence') return { ...schema, minimum: 1, description: SEQUENCE_NOTE }
    return schema
  })
  const data: JsonSchema = { type: 'object', description: familySummary(record.doc), required, properties }
  const descriptions = eventTypeDescriptions(record.doc)
  return FAMILIES[family].eventTypes.map((type) => {
    const meaning = descriptions.get(type)
    if (meaning === undefined) throw new Error(`${FAMILIES[family].schemaFile}: the record doc describes no ${type} in its "Event types:" sentence`)
    const description = `${familySummary(record.doc)} ${meaning.charAt(0).toUpperCase()}${meaning.slice(1)}.`
    const event = EXAMPLE_EVENTS[type]
    validateEvent(family, event)
    return { type, family, description, schema: bodySchema(type, description, data), example: JSON.parse(toWebhookBody(event)) as unknown }
  })
}

function testEventEntry (): EventTypeEntry {
  const description = 'Sent only on request (Send test event): checks that the endpoint is reachable and verifies signatures. Never retried; not part of any account\'s sequence.'
  const data: JsonSchema = {
    type: 'object',
    required: ['subscriptionId', 'message'],
    properties: {
      subscriptionId: { type: 'string', description: 'The endpoint the test was sent to.' },
      message: { type: 'string' }
    }
  }
  const schema = bodySchema(TEST_EVENT_TYPE, description, data)
  const properties = schema.properties as Record<string, JsonSchema>
  properties.id = { type: 'string', description: 'test_ and a random UUID; equal to the webhook-id header.' }
  properties.timestamp = { type: 'string', format: 'date-time', description: 'When the test was sent.' }
  const example = { id: 'test_5b7c9d1e-2f3a-4b5c-8d6e-7f8091a2b3c4', type: TEST_EVENT_TYPE, timestamp: '2026-11-27T10:16:00.000Z', data: { subscriptionId: 'ep_3Kq9TzW1', message: TEST_EVENT_MESSAGE } }
  return { type: TEST_EVENT_TYPE, family: 'dispatcher', description, schema, example }
}

let cached: readonly EventTypeEntry[] | undefined

/** Every event type a webhook can carry, families in schema order, then `webhook.test`. */
export function eventCatalog (): readonly EventTypeEntry[] {
  cached ??= Object.freeze([...FAMILY_NAMES.flatMap(familyEntries), testEventEntry()])
  return cached
}
