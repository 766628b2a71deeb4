import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import {
  ENVELOPE_FIELDS, FAMILIES, FAMILY_NAMES, familyOfEventType, familyOfRecordName, familySchema, familySchemaString,
  familyType, resolveTopics, subjectForTopic,
  DEFAULT_SOURCE_TOPIC, declaredEventTypes, eventTypeProblem, sourceLayout, subjectFor
} from '../../../services/events/src/index.js'

interface FieldSchema { name: string, type: unknown, doc?: string, default?: unknown }

/** Every record field in a schema, nested records included, with its path. */
function allFields (schema: unknown, path = ''): Array<{ path: string, field: FieldSchema }> {
  if (Array.isArray(schema)) return schema.flatMap((branch) => allFields(branch, path))
  if (schema === null || typeof schema !== 'object') return []
  const record = schema as { type?: unknown, fields?: FieldSchema[], items?: unknown }
  if (record.type === 'record' && Array.isArray(record.fields)) {
    return record.fields.flatMap((field) => [
      { path: `${path}${field.name}`, field },
      ...allFields(field.type, `${path}${field.name}.`)
    ])
  }
  return record.items === undefined ? [] : allFields(record.items, path)
}

describe('event families', () => {
  it('has the three families with their topics and schema files', () => {
    expect(FAMILY_NAMES).toEqual(['transactions', 'accounts', 'fraud'])
    expect(FAMILIES.transactions.defaultTopic).toBe('banking.transactions.v1')
    expect(FAMILIES.accounts.defaultTopic).toBe('banking.accounts.v1')
    expect(FAMILIES.fraud.defaultTopic).toBe('banking.fraud-alerts.v1')
    expect(FAMILIES.accounts.schemaFile).toBe('account-status.avsc')
  })

  it.each(FAMILY_NAMES)('%s: parses, starts with the envelope, documents every field', (name) => {
    const schema = familySchema(name)
    expect(`${schema.namespace}.${schema.name}`).toBe(FAMILIES[name].recordName)
    expect(schema.namespace).toBe('com.bank.events.v1')
    expect(schema.fields.slice(0, ENVELOPE_FIELDS.length).map((field) => field.name)).toEqual([...ENVELOPE_FIELDS])
    for (const { path, field } of allFields(schema)) {
      expect(field.doc, `${name}: ${path} has no doc`).toMatch(/\S/)
    }
    expect(familyType(name).name).toBe(FAMILIES[name].recordName)
    expect(JSON.parse(familySchemaString(name))).toEqual(schema)
  })

  it.each(FAMILY_NAMES)('%s: lists its event types in the eventType doc', (name) => {
    const eventType = familySchema(name).fields.find((field) => field.name === 'eventType')
    for (const type of FAMILIES[name].eventTypes) expect(eventType?.doc).toContain(type)
  })

  it.each(FAMILY_NAMES)('%s: every optional field is a union with null first and default null', (name) => {
    for (const { path, field } of allFields(familySchema(name))) {
      if (Array.isArray(field.type)) {
        expect(field.type[0], path).toBe('null')
        expect(field.default, path).toBeNull()
      }
    }
  })

  it('uses decimal(19,4) for money and the envelope logical types', () => {
    const fields = Object.fromEntries(allFields(familySchema('transactions')).map(({ path, field }) => [path, field.type]))
    const money = { type: 'bytes', logicalType: 'decimal', precision: 19, scale: 4 }
    expect(fields.amount).toEqual(money)
    expect(fields.balanceAfter).toEqual(['null', money])
    expect(fields.occurredAt).toEqual({ type: 'long', logicalType: 'timestamp-millis' })
    expect(fields.eventId).toEqual({ type: 'string', logicalType: 'uuid' })
    expect(fields.accountSequence).toBe('long')
  })

  it('has a default of [] for changedFields', () => {
    const changed = familySchema('accounts').fields.find((field) => field.name === 'changedFields')
    expect(changed?.default).toEqual([])
  })

  it('maps event types and record names to families', () => {
    expect(familyOfEventType('transaction.reversed')).toBe('transactions')
    expect(familyOfEventType('account.closed')).toBe('accounts')
    expect(familyOfEventType('fraud_alert.resolved')).toBe('fraud')
    expect(familyOfEventType('loan.approved')).toBeUndefined()
    expect(familyOfRecordName('com.bank.events.v1.FraudAlertEvent')).toBe('fraud')
    expect(familyOfRecordName('com.other.Thing')).toBeUndefined()
    expect(familyOfRecordName(undefined)).toBeUndefined()
  })

  it('derives subjects and topics', () => {
    expect(subjectForTopic('banking.transactions.v1')).toBe('banking.transactions.v1-value')
    expect(resolveTopics({ fraud: 'f' })).toEqual({ transactions: 'banking.transactions.v1', accounts: 'banking.accounts.v1', fraud: 'f' })
  })

  it('the schemas are valid Avro for a plain Avro library too', () => {
    for (const name of FAMILY_NAMES) {
      expect(() => avro.Type.forSchema(familySchema(name) as Parameters<typeof avro.Type.forSchema>[0])).not.toThrow()
    }
  })

  it('lays out every family on one topic by default, one subject per record (TopicRecordNameStrategy)', () => {
    expect(DEFAULT_SOURCE_TOPIC).toBe('banking.account-events.v1')
    const layout = sourceLayout()
    expect(layout.topics).toEqual({ transactions: DEFAULT_SOURCE_TOPIC, accounts: DEFAULT_SOURCE_TOPIC, fraud: DEFAULT_SOURCE_TOPIC })
    expect(layout.strategies).toEqual({ transactions: 'topic-record', accounts: 'topic-record', fraud: 'topic-record' })
    expect(layout.subjects).toEqual({
      transactions: 'banking.account-events.v1-com.bank.events.v1.TransactionEvent',
      accounts: 'banking.account-events.v1-com.bank.events.v1.AccountStatusEvent',
      fraud: 'banking.account-events.v1-com.bank.events.v1.FraudAlertEvent'
    })
    expect(sourceLayout({ topic: 't' }).subjects.fraud).toBe('t-com.bank.events.v1.FraudAlertEvent')
  })

  it('keeps <topic>-value for a topic of one family (three-topic layout), per record where topics are shared', () => {
    expect(sourceLayout({ topics: {} }).subjects).toEqual({
      transactions: 'banking.transactions.v1-value', accounts: 'banking.accounts.v1-value', fraud: 'banking.fraud-alerts.v1-value'
    })
    const mixed = sourceLayout({ topics: { transactions: 'a', accounts: 'a', fraud: 'f' } })
    expect(mixed.strategies).toEqual({ transactions: 'topic-record', accounts: 'topic-record', fraud: 'topic' })
    expect(mixed.subjects.fraud).toBe('f-value')
    expect(subjectFor('accounts', 'x', 'topic')).toBe('x-value')
    expect(subjectFor('accounts', 'x', 'topic-record')).toBe('x-com.bank.events.v1.AccountStatusEvent')
  })

  it('each schema declares exactly the event types its family lists, in the eventType doc', () => {
    for (const name of FAMILY_NAMES) {
      const doc = familySchema(name).fields.find((field) => field.name === 'eventType')?.doc
      expect(declaredEventTypes(doc)).toEqual(FAMILIES[name].eventTypes)
    }
    expect(declaredEventTypes('Any of the account types.')).toBeUndefined()
    expect(declaredEventTypes(undefined)).toBeUndefined()
  })

  it('an event type must carry its family\'s prefix and be one the family defines', () => {
    expect(eventTypeProblem('transactions', 'transaction.posted')).toBeUndefined()
    expect(eventTypeProblem('fraud', 'fraud_alert.resolved')).toBeUndefined()
    expect(eventTypeProblem('transactions', 'account.opened')).toMatch(/not a transactions event type/)
    expect(eventTypeProblem('accounts', 'transaction.posted')).toMatch(/not a accounts event type/)
    expect(eventTypeProblem('transactions', 'transaction.exploded')).toMatch(/not one of the transactions event types/)
    expect(eventTypeProblem('transactions', 42)).toMatch(/not a string/)
    // A writer schema that declares more types (a newer family version) admits them, still within the family.
    expect(eventTypeProblem('transactions', 'transaction.settled', ['transaction.posted', 'transaction.settled'])).toBeUndefined()
    expect(eventTypeProblem('transactions', 'transaction.authorized', ['transaction.posted'])).toMatch(/not one of/)
    expect(eventTypeProblem('transactions', 'account.opened', ['account.opened'])).toMatch(/not a transactions event type/)
  })
})
