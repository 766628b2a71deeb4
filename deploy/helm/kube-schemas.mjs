#!/usr/bin/env node
// Strict JSON schemas for kubeconform, made from the API definitions the
// projects publish themselves (what openapi2jsonschema does, reimplemented so
// that nothing but the Go module proxy is needed):
//
//   node deploy/helm/kube-schemas.mjs OUT --kubernetes SWAGGER_JSON VERSION --crds DIR…
//
// OUT/v<VERSION>-standalone-strict/<kind>-<group>-<version>.json
//     one file per kind of Kubernetes' OpenAPI v2 document (swagger.json of
//     the k8s.io/kubernetes module), kubeconform's default layout;
// OUT/crds/<group>/<kind>_<version>.json
//     one file per kind and version of each CustomResourceDefinition found in
//     the YAML files of the CRD folders (KEDA's and prometheus-operator's).
//
// Each file stands alone: the definitions it refers to are copied under its
// own `definitions`, so recursive types (JSONSchemaProps) need no inlining.
// Strict: every object schema that lists its properties refuses others
// (unknown fields are errors, as the API server's strict field validation
// makes them), unless Kubernetes marks it x-kubernetes-preserve-unknown-fields.
// IntOrString takes a string or an integer; a Quantity takes a number or a
// string of the quantity grammar (the API server refuses "1 Gi" or "500mb").
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString'
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity'
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'
/** k8s.io/apimachinery's quantity grammar, as controller-gen writes it into CRDs. */
export const QUANTITY_PATTERN = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'

/** The schemas under a schema (not under a properties map's names). */
function children (schema) {
  const out = []
  for (const key of ['properties', 'patternProperties', 'definitions']) {
    if (schema[key] !== undefined) out.push(...Object.values(schema[key]))
  }
  for (const key of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(schema[key])) out.push(...schema[key])
  if (Array.isArray(schema.items)) out.push(...schema.items)
  else if (typeof schema.items === 'object' && schema.items !== null) out.push(schema.items)
  for (const key of ['additionalProperties', 'not']) if (typeof schema[key] === 'object' && schema[key] !== null) out.push(schema[key])
  return out
}

/** Refuses unknown fields wherever a schema lists its fields; in place. */
export function strict (schema) {
  if (typeof schema !== 'object' || schema === null) return schema
  if (schema.properties !== undefined && schema.additionalProperties === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    schema.additionalProperties = false
  }
  // OpenAPI v3's nullable (CRDs) is JSON schema's null type.
  if (schema.nullable === true && typeof schema.type === 'string') schema.type = [schema.type, 'null']
  for (const child of children(schema)) strict(child)
  return schema
}

function refsOf (schema, found = new Set()) {
  if (typeof schema !== 'object' || schema === null) return found
  if (typeof schema.$ref === 'string') found.add(schema.$ref.replace('#/definitions/', ''))
  for (const child of children(schema)) refsOf(child, found)
  return found
}

/** The swagger definitions, with IntOrString and Quantity as JSON schema can check them. */
export function kubernetesDefinitions (swagger) {
  const definitions = structuredClone(swagger.definitions)
  definitions[INT_OR_STRING] = { description: definitions[INT_OR_STRING]?.description, oneOf: [{ type: 'string' }, { type: 'integer' }] }
  definitions[QUANTITY] = { description: 'A Kubernetes quantity: a number, or a string such as 500m, 1.5, 256Mi or 1e3.', oneOf: [{ type: 'string', pattern: QUANTITY_PATTERN }, { type: 'number' }] }
  for (const definition of Object.values(definitions)) strict(definition)
  return definitions
}

/** A root schema with every definition it refers to, transitively, copied beside it. */
export function standalone (root, definitions) {
  const needed = new Set()
  const queue = [...refsOf(root)]
  while (queue.length > 0) {
    const name = queue.pop()
    if (needed.has(name)) continue
    if (definitions[name] === undefined) throw new Error(`no definition ${name}`)
    needed.add(name)
    queue.push(...refsOf(definitions[name]))
  }
  const copied = Object.fromEntries([...needed].sort().map((name) => [name, definitions[name]]))
  return needed.size === 0 ? root : { ...root, definitions: copied }
}

/** kubeconform's {{.KindSuffix}}: the group's first label and the version. */
export function kindSuffix (group, version) {
  return group === '' ? `-${version}` : `-${group.split('.')[0]}-${version}`.toLowerCase()
}

/** [file name, schema] of each kind of a swagger document. */
export function kubernetesSchemas (swagger) {
  const definitions = kubernetesDefinitions(swagger)
  const files = []
  for (const [name, definition] of Object.entries(definitions)) {
    for (const gvk of definition['x-kubernetes-group-version-kind'] ?? []) {
      const root = structuredClone(definition)
      // The kind's own apiVersion and kind, so a typo in either is caught.
      const apiVersion = gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`
      if (root.properties?.apiVersion !== undefined) root.properties.apiVersion.enum = [apiVersion]
      if (root.properties?.kind !== undefined) root.properties.kind.enum = [gvk.kind]
      files.push([`${gvk.kind.toLowerCase()}${kindSuffix(gvk.group, gvk.version)}.json`, standalone(root, definitions), name])
    }
  }
  return files
}

/** [relative file name, schema] of each served version of the CRDs in a YAML text. */
export function crdSchemas (yamlText, definitions) {
  const files = []
  for (const doc of parseAllDocuments(yamlText)) {
    const crd = doc.toJS()
    if (crd?.kind !== 'CustomResourceDefinition') continue
    const { group, names } = crd.spec
    for (const version of crd.spec.versions) {
      const schema = version.schema?.openAPIV3Schema
      if (schema === undefined) continue
      const root = strict(structuredClone(schema))
      // A custom resource's metadata is an ObjectMeta like any object's.
      root.properties.metadata = { $ref: `#/definitions/${OBJECT_META}` }
      root.properties.apiVersion = { ...root.properties.apiVersion, enum: [`${group}/${version.name}`] }
      root.properties.kind = { ...root.properties.kind, enum: [names.kind] }
      files.push([join(group, `${names.kind.toLowerCase()}_${version.name}.json`), standalone(root, definitions)])
    }
  }
  return files
}

function write (path, schema) {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, JSON.stringify(schema))
}

function main (argv) {
  const [out, ...rest] = argv
  const k = rest.indexOf('--kubernetes')
  const c = rest.indexOf('--crds')
  if (out === undefined || k === -1 || c === -1) {
    console.error('usage: kube-schemas.mjs OUT --kubernetes SWAGGER_JSON VERSION --crds DIR…')
    process.exit(2)
  }
  const [swaggerPath, version] = rest.slice(k + 1, k + 3)
  const crdDirs = rest.slice(c + 1).filter((arg) => !arg.startsWith('--'))
  const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8'))
  rmSync(out, { recursive: true, force: true })
  const kubeDir = join(out, `v${version.replace(/^v/, '')}-standalone-strict`)
  let count = 0
  for (const [file, schema] of kubernetesSchemas(swagger)) { write(join(kubeDir, file), schema); count++ }
  const definitions = kubernetesDefinitions(swagger)
  for (const dir of crdDirs) {
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      for (const [name, schema] of crdSchemas(readFileSync(join(dir, file), 'utf8'), definitions)) { write(join(out, 'crds', name), schema); count++ }
    }
  }
  console.error(`kube-schemas: ${count} schemas in ${out}`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2))
