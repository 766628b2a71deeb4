import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { apiErrorCodes, apiErrorStatus, openApiDocument } from '../../../../services/dispatcher/src/http/admin-api.js'
import { adminRoutes } from '../../../../services/dispatcher/src/http/admin/routes.js'
import { checkSchema, resolveRef } from './schema-check.js'

const committedPath = fileURLToPath(new URL('../../../../services/dispatcher/src/http/openapi.json', import.meta.url))
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

type Operation = { operationId: string, security?: unknown[], responses: Record<string, { $ref?: string }>, requestBody?: unknown, parameters?: Array<{ $ref?: string, name?: string, in?: string }> }
const paths = openApiDocument.paths as Record<string, Record<string, unknown>>
const operations = Object.entries(paths).flatMap(([path, item]) => Object.entries(item)
  .filter(([key]) => methods.includes(key))
  .map(([method, operation]) => ({ path, method: method.toUpperCase(), operation: operation as Operation, item })))

describe('the OpenAPI document', () => {
  it('is committed as openapi.json, identical to the served one (UPDATE_OPENAPI=1 rewrites it)', () => {
    const text = `${JSON.stringify(openApiDocument, null, 2)}\n`
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(committedPath, text)
    expect(readFileSync(committedPath, 'utf8')).toBe(text)
  })

  it('documents exactly the implemented routes', () => {
    const documented = operations.map(({ method, path, operation }) => `${method} ${path} ${operation.operationId}`).sort()
    const implemented = adminRoutes.map((route) => `${route.method} ${route.path} ${route.operationId}`).sort()
    expect(documented).toEqual(implemented)
  })

  it('secures every route but the public ones, and documents their 401 and 500', () => {
    for (const { method, path, operation } of operations) {
      const route = adminRoutes.find((r) => r.method === method && r.path === path)
      if (route?.auth === false) {
        expect(operation.security, path).toEqual([])
        continue
      }
      expect(operation.security, path).toBeUndefined()
      expect(operation.responses['401']?.$ref, `${method} ${path}`).toBe('#/components/responses/Unauthorized')
      expect(operation.responses['500']?.$ref, `${method} ${path}`).toBe('#/components/responses/Internal')
    }
    expect(openApiDocument.security).toEqual([{ bearerAuth: [] }])
  })

  it('documents 404 for every route with an endpoint id, and 400/413/415 for every route with a body', () => {
    for (const { method, path, operation } of operations) {
      if (path.includes('{id}')) expect(operation.responses['404']?.$ref, `${method} ${path}`).toBe('#/components/responses/NotFound')
      if (operation.requestBody !== undefined) {
        for (const status of ['400', '413', '415']) expect(operation.responses[status], `${method} ${path} ${status}`).toBeDefined()
      }
    }
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
      'WHD_ERR_PAYLOAD_TOO_LARGE', 'WHD_ERR_METHOD_NOT_ALLOWED', 'WHD_ERR_SSRF_BLOCKED', 'WHD_ERR_URL_INVALID', 'WHD_ERR_INTERNAL'
    ]))
    for (const code of apiErrorCodes) expect(apiErrorStatus[code]).toBeGreaterThanOrEqual(400)
  })

  it('has schemas the checker understands, which accept and refuse what the API does', () => {
    const create = { $ref: '#/components/schemas/EndpointCreate' }
    expect(checkSchema(openApiDocument, create, { url: 'https://a.example/', eventTypes: ['transaction.*'] })).toEqual([])
    expect(checkSchema(openApiDocument, create, { url: 'https://a.example/', eventTypes: ['transaction.*'], secret: 'x' })).not.toEqual([])
    expect(checkSchema(openApiDocument, create, { url: 'https://a.example/' })).not.toEqual([])
    const patch = { $ref: '#/components/schemas/EndpointPatch' }
    expect(checkSchema(openApiDocument, patch, { description: null, tls: null })).toEqual([])
    expect(checkSchema(openApiDocument, patch, {})).not.toEqual([])
    // Every schema is walkable by the checker (no keyword it cannot check).
    for (const name of Object.keys(openApiDocument.components.schemas)) {
      expect(() => checkSchema(openApiDocument, { $ref: `#/components/schemas/${name}` }, {}), name).not.toThrow()
    }
  })
})
