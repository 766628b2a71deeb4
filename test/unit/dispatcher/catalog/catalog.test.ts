import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventCatalog, TEST_EVENT_TYPE } from '../../../../services/dispatcher/src/catalog/catalog.js'
import { eventTypeDescriptions } from '../../../../services/dispatcher/src/catalog/event-types.js'
import { catalogFiles } from '../../../../services/dispatcher/src/catalog/files.js'
import { toWebhookBody } from '../../../../services/dispatcher/src/delivery/payload.js'
import { FAMILIES, FAMILY_NAMES, familySchema } from '../../../../services/events/src/index.js'
import { accountStatusEvent, fraudAlertEvent, transactionEvent } from '../../events/fixtures.js'
import { call, startHarness, type Harness } from '../http/harness.js'

const ajv = new Ajv2020({ strict: false, allErrors: true })
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
const schemaOf = (type: string): Record<string, unknown> => eventCatalog().find((entry) => entry.type === type)!.schema
const valid = (type: string, body: unknown): unknown => {
  const validate = ajv.compile(schemaOf(type))
  return validate(body) ? [] : validate.errors
}

describe('the event catalog', () => {
  it('is committed under docs/, identical to what the Avro schemas generate (make catalog rewrites it)', () => {
    for (const [name, text] of Object.entries(catalogFiles())) {
      expect(readFileSync(join('docs', name), 'utf8'), `docs/${name} is stale: run make catalog`).toBe(text)
    }
  })

  it('lists every event type of every family, then webhook.test, each described from its schema\'s doc', () => {
    const types = eventCatalog().map((entry) => entry.type)
    expect(types).toEqual([...FAMILY_NAMES.flatMap((family) => FAMILIES[family].eventTypes), TEST_EVENT_TYPE])
    const posted = eventCatalog().find((entry) => entry.type === 'transaction.posted')!
    expect(posted.description).toBe('A money movement on an account. Booked; balanceAfter set.')
  })

  it('describes in data exactly the Avro fields a body carries: every record field but eventId, eventType, occurredAt and tenantId', () => {
    for (const family of FAMILY_NAMES) {
      const data = (schemaOf(FAMILIES[family].eventTypes[0]!).properties as Record<string, { properties: Record<string, unknown>, required: string[] }>).data!
      const fields = familySchema(family).fields.map((field) => field.name).filter((name) => !['eventId', 'eventType', 'occurredAt', 'tenantId'].includes(name))
      expect(Object.keys(data.properties).sort()).toEqual(fields.sort())
      expect(data.required).toContain('accountSequence')
      expect(data.required).not.toContain('balanceAfter')
    }
  })

  it('has examples that are real bodies: each matches its JSON Schema, carries its type, and its id and account sequence', () => {
    for (const entry of eventCatalog()) {
      expect(valid(entry.type, entry.example), entry.type).toEqual([])
      expect(entry.example).toMatchObject({ type: entry.type, id: expect.any(String) })
    }
    const authorized = eventCatalog().find((entry) => entry.type === 'transaction.authorized')!.example as { data: { amount: string } }
    // Never rounded to USD's two places.
    expect(authorized.data.amount).toBe('3.5282')
  })

  it('accepts the bodies the dispatcher writes for other events, and refuses a float amount or a missing sequence', () => {
    const bodies = [transactionEvent(), accountStatusEvent(), fraudAlertEvent(), transactionEvent({ eventType: 'transaction.declined', declineReason: 'LIMIT', balanceAfter: null, counterparty: { name: 'A', iban: null, bic: null }, merchant: null })]
    for (const event of bodies) {
      expect(valid(event.eventType, JSON.parse(toWebhookBody(event))), event.eventType).toEqual([])
    }
    const body = JSON.parse(toWebhookBody(transactionEvent())) as { data: Record<string, unknown> }
    expect(valid('transaction.posted', { ...body, data: { ...body.data, amount: 1234.5 } })).not.toEqual([])
    const { accountSequence: _, ...withoutSequence } = body.data
    expect(valid('transaction.posted', { ...body, data: withoutSequence })).not.toEqual([])
    expect(valid('transaction.posted', { ...body, type: 'transaction.declined' })).not.toEqual([])
  })

  it('has an OpenAPI 3.1 webhooks document with one operation per type, its body schema and example', () => {
    const document = JSON.parse(catalogFiles()['webhooks.openapi.json']!) as { openapi: string, webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown, example: unknown }> }, parameters: Array<{ name: string }> } }> }
    expect(document.openapi).toBe('3.1.0')
    expect(Object.keys(document.webhooks)).toEqual(eventCatalog().map((entry) => entry.type))
    const posted = document.webhooks['transaction.posted']!.post
    expect(posted.parameters.map((p) => p.name)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature'])
    expect(posted.requestBody.content['application/json']!.example).toEqual(eventCatalog()[1]!.example)
  })
})

describe('eventTypeDescriptions', () => {
  it('reads "Event types: a (…), b (…)." with one level of nested parentheses', () => {
    expect([...eventTypeDescriptions('A thing. Kafka key = x. Event types: a.one (first (really)), a.two (second; x set).')])
      .toEqual([['a.one', 'first (really)'], ['a.two', 'second; x set']])
    expect(eventTypeDescriptions('No list here.').size).toBe(0)
  })
})

describe('GET /v1/event-types', () => {
  let harness: Harness
  beforeAll(async () => { harness = await startHarness() })
  afterAll(async () => { await harness.close() })

  it('answers the catalog to a tenant token, as documented', async () => {
    const result = await call(harness, 'GET', '/v1/event-types', { token: 'tenantA' })
    expect(result.status).toBe(200)
    expect(result.body).toEqual(JSON.parse(catalogFiles()['event-catalog.json']!))
  })

  it('wants a token', async () => {
    expect((await call(harness, 'GET', '/v1/event-types', { token: null })).status).toBe(401)
  })
})
