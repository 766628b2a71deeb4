import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import {
  ENVELOPE_FIELDS, FAMILIES, FAMILY_NAMES, familyOfEventType, familyOfRecordName, familySchema, familySchemaString,
  familyType, resolveTopics, subjectForTopic
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
})
