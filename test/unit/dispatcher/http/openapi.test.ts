import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { adminOpenApiDocument, apiErrorCodes, apiErrorStatus } from '../../../../services/dispatcher/src/http/admin-api.js'
import { adminRoutes } from '../../../../services/dispatcher/src/http/admin/routes.js'
import { renderOpenApiDocument } from '../../../../services/dispatcher/src/cli/openapi.js'
import { INSTANT_PATTERN } from '../../../../services/dispatcher/src/dead-letters/instant.js'
import { checkSchema, committedOpenApiPath, openApiDocument, resolveRef } from './schema-check.js'

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

type Operation = {
  operationId: string
  security?: unknown[]
  responses: Record<string, { $ref?: string, content?: Record<string, { schema: Record<string, unknown> }> }>
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }
  parameters?: Array<{ $ref?: string, name?: string, in?: string }>
}
const paths = openApiDocument.paths
const operations = Object.entries(paths).flatMap(([path, item]) => Object.entries(item)
  .filter(([key]) => methods.includes(key))
  .map(([method, operation]) => ({ path, method: method.toUpperCase(), operation: operation as Operation, item })))
const operation = (method: string, path: string): Operation => operations.find((o) => o.method === method && o.path === path)?.operation as Operation
const errorSchema = { $ref: '#/components/schemas/Error' }

describe('the OpenAPI document', () => {
  it('is committed as openapi.json, identical to the one generated from the routes (make openapi rewrites it)', async () => {
    expect(readFileSync(committedOpenApiPath, 'utf8'), 'services/dispatcher/src/http/openapi.json is stale: run make openapi').toBe(renderOpenApiDocument(await adminOpenApiDocument()))
  })

  it('documents exactly the implemented routes', () => {
    const documented = operations.map(({ method, path, operation }) => `${method} ${path} ${operation.operationId}`).sort()
    const implemented = adminRoutes.map((route) => `${route.method} ${route.path} ${route.operationId}`).sort()
    expect(documented).toEqual(implemented)
    expect(openApiDocument.openapi).toBe('3.1.0')
  })

  it('secures every route but the public ones, and documents their 401 and 500 with the error schema', () => {
    for (const { method, path, operation } of operations) {
      const route = adminRoutes.find((r) => r.method === method && r.path === path)
      if (route?.auth === false) {
        expect(operation.security, path).toEqual([])
        continue
      }
      expect(operation.security, path).toBeUndefined()
      for (const status of ['401', '500']) {
        expect(operation.responses[status]?.content?.['application/json']?.schema, `${method} ${path} ${status}`).toEqual(errorSchema)
      }
    }
    expect(openApiDocument.security).toEqual([{ bearerAuth: [] }])
  })

  it('documents 404 for every route with an endpoint id, 400/413/415 for every route with a body, 412 and If-Match for conditional writes', () => {
    for (const { method, path, operation } of operations) {
      if (path.includes('{id}')) expect(operation.responses['404']?.content?.['application/json']?.schema, `${method} ${path}`).toEqual(errorSchema)
      if (operation.requestBody !== undefined) {
        for (const status of ['400', '413', '415']) expect(operation.responses[status], `${method} ${path} ${status}`).toBeDefined()
      }
    }
    for (const [method, path] of [['PATCH', '/v1/endpoints/{id}'], ['DELETE', '/v1/endpoints/{id}']] as const) {
      expect(operation(method, path).responses['412'], `${method} ${path}`).toBeDefined()
      expect(operation(method, path).parameters).toContainEqual(expect.objectContaining({ name: 'if-match', in: 'header' }))
    }
  })

  it('marks a request body optional exactly where it may be left out (an action\'s options, a redrive\'s filter)', () => {
    for (const route of adminRoutes.filter((r) => r.body !== undefined)) {
      expect(operation(route.method, route.path).requestBody, route.operationId).toMatchObject({ required: route.bodyOptional !== true })
    }
    expect(operation('POST', '/v1/dead-letters/redrive').requestBody).toMatchObject({ required: false })
    expect(operation('POST', '/v1/endpoints').requestBody).toMatchObject({ required: true })
  })

  it('states the rules the server enforces on instants, cursors and tenantId', () => {
    type Parameter = { name: string, description?: string, schema: Record<string, unknown> }
    const parameter = (method: string, path: string, name: string): Parameter | undefined => (operation(method, path).parameters as Parameter[]).find((p) => p.name === name)
    expect(parameter('GET', '/v1/dead-letters', 'from')?.schema.pattern).toBe(INSTANT_PATTERN)
    expect(parameter('GET', '/v1/dead-letters', 'to')?.schema.pattern).toBe(INSTANT_PATTERN)
    expect(parameter('GET', '/v1/dead-letters', 'to')?.description).toMatch(/later than from/)
    expect(parameter('GET', '/v1/endpoints', 'cursor')?.description).toMatch(/Opaque.*400 WHD_ERR_VALIDATION/)
    const create = operation('POST', '/v1/endpoints').requestBody?.content['application/json']?.schema as { properties: { tenantId: { description: string } } }
    expect(create.properties.tenantId.description).toMatch(/Required with an operator token/)
  })

  it('declares the id parameter wherever the path has one', () => {
    for (const { path, operation, item } of operations) {
      if (!path.includes('{id}')) continue
      const parameters = [...((item.parameters as Operation['parameters']) ?? []), ...(operation.parameters ?? [])]
        .map((p) => (p.$ref === undefined ? p : resolveRef(openApiDocument, p.$ref) as { name: string, in: string }))
      expect(parameters, path).toContainEqual(expect.objectContaining({ name: 'id', in: 'path' }))
    }
  })

  it('resolves every reference', () => {
    const refs: string[] = []
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk)
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value)
          else walk(value)
        }
      }
    }
    walk(openApiDocument)
    expect(refs.length).toBeGreaterThan(20)
    for (const ref of refs) expect(() => resolveRef(openApiDocument, ref), ref).not.toThrow()
  })

  it('lists every error code, each with one status', () => {
    const schema = openApiDocument.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }
    expect(schema.properties.error.properties.code.enum).toEqual([...apiErrorCodes])
    expect(apiErrorCodes).toEqual(expect.arrayContaining([
      'WHD_ERR_BAD_REQUEST', 'WHD_ERR_VALIDATION', 'WHD_ERR_UNAUTHORIZED', 'WHD_ERR_FORBIDDEN', 'WHD_ERR_NOT_FOUND', 'WHD_ERR_CONFLICT',
      'WHD_ERR_PAYLOAD_TOO_LARGE', 'WHD_ERR_METHOD_NOT_ALLOWED', 'WHD_ERR_SSRF_BLOCKED', 'WHD_ERR_URL_INVALID', 'WHD_ERR_INTERNAL',
      'WHD_ERR_PRECONDITION_FAILED'
    ]))
    for (const code of apiErrorCodes) expect(apiErrorStatus[code]).toBeGreaterThanOrEqual(400)
  })

  it('has request schemas that accept and refuse what the API does (they are the ones it validates with)', () => {
    const body = (method: string, path: string): Record<string, unknown> => operation(method, path).requestBody?.content['application/json']?.schema ?? {}
    const create = body('POST', '/v1/endpoints')
    expect(checkSchema(openApiDocument, create, { url: 'https://a.example/', eventTypes: ['transaction.*'] })).toEqual([])
    expect(checkSchema(openApiDocument, create, { url: 'https://a.example/', eventTypes: ['transaction.*'], secret: 'x' })).not.toEqual([])
    expect(checkSchema(openApiDocument, create, { url: 'https://a.example/' })).not.toEqual([])
    expect(checkSchema(openApiDocument, create, { url: 'https://a.example/', eventTypes: Array.from({ length: 51 }, (_, i) => `t.${i}`) })).not.toEqual([])
    const patch = body('PATCH', '/v1/endpoints/{id}')
    expect(checkSchema(openApiDocument, patch, { description: null, tls: null })).toEqual([])
    expect(checkSchema(openApiDocument, patch, {})).not.toEqual([])
    // Every shared schema compiles with a real validator.
    for (const name of Object.keys(openApiDocument.components.schemas)) {
      expect(() => checkSchema(openApiDocument, { $ref: `#/components/schemas/${name}` }, {}), name).not.toThrow()
    }
  })
})
