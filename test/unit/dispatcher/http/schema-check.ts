// Holds values against schemas of the admin API's OpenAPI document with a
// real JSON Schema validator (Ajv, which fastify uses too), resolving the
// document's `#/components/…` references.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv, type ValidateFunction } from 'ajv'

type Schema = Record<string, unknown>

/** The committed document; a unit test keeps it equal to the one the API serves. */
export const committedOpenApiPath = fileURLToPath(new URL('../../../../services/dispatcher/src/http/openapi.json', import.meta.url))
export const openApiDocument = JSON.parse(readFileSync(committedOpenApiPath, 'utf8')) as {
  openapi: string
  security: unknown
  paths: Record<string, Record<string, unknown>>
  components: { schemas: Record<string, Schema>, [key: string]: unknown }
}

/** Resolves a local `#/…` reference in the document. */
export function resolveRef (document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`)
  let node: unknown = document
  for (const part of ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (typeof node !== 'object' || node === null || !(part in node)) throw new Error(`unresolvable reference ${ref}`)
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

const ajv = new Ajv({ strict: false, allErrors: true })
ajv.addFormat('date-time', (value: string) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)))
const compiled = new Map<string, ValidateFunction>()

/** The problems of `value` against `schema` (a node of `document`): [] when it conforms. */
export function checkSchema (document: { components: unknown }, schema: Schema, value: unknown): string[] {
  const key = JSON.stringify(schema)
  let validate = compiled.get(key)
  if (validate === undefined) {
    // The node's `#/components/…` references resolve against this root.
    validate = ajv.compile({ ...schema, components: document.components })
    compiled.set(key, validate)
  }
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`)
}
