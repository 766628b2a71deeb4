// Avro → JSON Schema (draft 2020-12) for what the webhook body carries: the
// mapping follows delivery/payload.ts, the code that writes the body, so the
// schema describes the JSON a receiver gets, not the Avro record.
//
//   Avro                          JSON in the body
//   string (uuid)                 string (format uuid)
//   int, long                     integer (a long is written with its exact digits, beyond 2^53 too)
//   long timestamp-millis         string, ISO-8601 (date-time)
//   bytes decimal                 string: a decimal, never a number
//   enum                          string, one of the symbols
//   array, record                 array, object (nested records inline)
//   ["null", T]                   T or null; the field may also be absent
//   boolean, float, double        boolean, number

/** A JSON Schema, as plain JSON. */
export type JsonSchema = Record<string, unknown>

/** Avro named types seen so far (a later field may name an earlier enum or record). */
export type NamedTypes = Map<string, unknown>

/** The pattern of a decimal string in the body: no exponent, no plus sign, no leading zeros. */
export const DECIMAL_STRING_PATTERN = '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$'

/** What a money field's schema says, beyond its Avro doc. */
export const MONEY_NOTE = 'A decimal string in units of `currency`: trailing zeros trimmed down to the currency\'s ISO 4217 minor units, never rounded (extra digits stay: "-3.5282" USD). Compare and add as decimals, never as floats.'

interface AvroField { name: string, type: unknown, doc?: string, default?: unknown }

const PRIMITIVES: Record<string, JsonSchema> = {
  string: { type: 'string' },
  int: { type: 'integer' },
  long: { type: 'integer' },
  boolean: { type: 'boolean' },
  float: { type: 'number' },
  double: { type: 'number' },
  null: { type: 'null' },
  bytes: { type: 'string', contentEncoding: 'base64' }
}

/** Whether a field's Avro type admits null (an optional field). */
export function isNullable (type: unknown): boolean {
  return Array.isArray(type) && type.includes('null')
}

/**
 * The JSON Schema of an Avro type's value in the body. `named` collects
 * named types as they are defined, so a later reference by name resolves.
 */
export function avroToJsonSchema (type: unknown, named: NamedTypes, namespace = ''): JsonSchema {
  if (typeof type === 'string') {
    const primitive = PRIMITIVES[type]
    if (primitive !== undefined) return { ...primitive }
    const target = named.get(type) ?? named.get(`${namespace}.${type}`)
    if (target === undefined) throw new Error(`Avro type ${type} is referenced before it is defined`)
    return avroToJsonSchema(target, named, namespace)
  }
  if (Array.isArray(type)) {
    const branches = type.map((branch) => avroToJsonSchema(branch, named, namespace))
    return branches.length === 1 && branches[0] !== undefined ? branches[0] : { anyOf: branches }
  }
  if (type === null || typeof type !== 'object') throw new Error(`not an Avro type: ${JSON.stringify(type)}`)
  const schema = type as { type: string, logicalType?: string, name?: string, namespace?: string, doc?: string, symbols?: string[], items?: unknown, values?: unknown, fields?: AvroField[] }
  const ownNamespace = schema.namespace ?? namespace
  if (typeof schema.name === 'string') {
    named.set(schema.name, type)
    named.set(`${ownNamespace}.${schema.name}`, type)
  }
  const doc = schema.doc === undefined ? {} : { description: schema.doc }
  switch (schema.logicalType) {
    case 'uuid': return { type: 'string', format: 'uuid' }
    case 'timestamp-millis': return { type: 'string', format: 'date-time' }
    case 'decimal': return { type: 'string', pattern: DECIMAL_STRING_PATTERN }
  }
  switch (schema.type) {
    case 'enum': return { type: 'string', enum: [...(schema.symbols ?? [])], ...doc }
    case 'array': return { type: 'array', items: avroToJsonSchema(schema.items, named, ownNamespace) }
    case 'map': return { type: 'object', additionalProperties: avroToJsonSchema(schema.values, named, ownNamespace) }
    case 'record': return { type: 'object', ...doc, ...objectOf(schema.fields ?? [], named, ownNamespace) }
    default: return avroToJsonSchema(schema.type, named, ownNamespace)
  }
}

/**
 * `properties` and `required` of a record's fields, in field order. A field
 * is required when it is neither nullable nor defaulted: an event written
 * with an older schema version may lack a field added since (with its
 * default). Unknown properties are allowed, as a later version adds fields.
 */
export function objectOf (fields: readonly AvroField[], named: NamedTypes, namespace = '', decorate: (field: AvroField, schema: JsonSchema) => JsonSchema = (_, s) => s): { properties: Record<string, JsonSchema>, required: string[] } {
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  for (const field of fields) {
    const value = avroToJsonSchema(field.type, named, namespace)
    const described = { ...(field.doc === undefined ? {} : { description: field.doc }), ...value, ...(field.default === undefined ? {} : { default: field.default }) }
    properties[field.name] = decorate(field, described)
    if (!isNullable(field.type) && field.default === undefined) required.push(field.name)
  }
  return { properties, required }
}
