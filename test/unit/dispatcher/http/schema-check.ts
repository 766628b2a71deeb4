// A small JSON Schema (2020-12 subset) checker for the keywords the admin
// API's OpenAPI document uses, so tests can hold every response they see
// against the documented schema without a new dependency. An unknown keyword
// fails loudly: the document must not use what this cannot check.

type Schema = Record<string, unknown>

const known = new Set([
  '$ref', 'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'oneOf',
  'minItems', 'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum',
  'exclusiveMinimum', 'minProperties', 'maxProperties', 'format', 'description', 'default'
])

function typeOf (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** Resolves a local `#/…` reference in the document. */
export function resolveRef (document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`)
  let node: unknown = document
  for (const part of ref.slice(2).split('/')) {
    if (typeof node !== 'object' || node === null || !(part in node)) throw new Error(`unresolvable reference ${ref}`)
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

/** Problems of `value` against `schema` (empty when it conforms). */
export function checkSchema (document: unknown, schema: Schema, value: unknown, path = '$'): string[] {
  for (const key of Object.keys(schema)) {
    if (!known.has(key)) throw new Error(`schema at ${path} uses unsupported keyword "${key}"`)
  }
  if (typeof schema.$ref === 'string') return checkSchema(document, resolveRef(document, schema.$ref) as Schema, value, path)
  const problems: string[] = []
  const actual = typeOf(value)
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type as string[] : [schema.type as string]
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'))
    if (!ok) return [`${path}: expected ${types.join('|')}, got ${actual}`]
  }
  if (schema.const !== undefined && value !== schema.const) problems.push(`${path}: expected ${JSON.stringify(schema.const)}`)
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} not in enum`)
  if (Array.isArray(schema.oneOf)) {
    const matching = (schema.oneOf as Schema[]).filter((option) => checkSchema(document, option, value, path).length === 0)
    if (matching.length !== 1) problems.push(`${path}: matches ${matching.length} of oneOf`)
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`)
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`)
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${path}: does not match ${schema.pattern}`)
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${path}: below ${schema.minimum}`)
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${path}: above ${schema.maximum}`)
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) problems.push(`${path}: not above ${schema.exclusiveMinimum}`)
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${path}: fewer than ${schema.minItems} items`)
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${path}: more than ${schema.maxItems} items`)
    if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) problems.push(`${path}: items repeat`)
    if (schema.items !== undefined) value.forEach((item, i) => problems.push(...checkSchema(document, schema.items as Schema, item, `${path}[${i}]`)))
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>
    const keys = Object.keys(object)
    const properties = (schema.properties ?? {}) as Record<string, Schema>
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in object)) problems.push(`${path}: missing required ${name}`)
    }
    if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) problems.push(`${path}: fewer than ${schema.minProperties} properties`)
    if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) problems.push(`${path}: more than ${schema.maxProperties} properties`)
    for (const key of keys) {
      const property = properties[key]
      if (property !== undefined) problems.push(...checkSchema(document, property, object[key], `${path}.${key}`))
      else if (schema.additionalProperties === false) problems.push(`${path}: unexpected property ${key}`)
      else if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null) {
        problems.push(...checkSchema(document, schema.additionalProperties as Schema, object[key], `${path}.${key}`))
      }
    }
  }
  return problems
}
