// A running admin API on 127.0.0.1:0 over the real MemorySubscriptionStore,
// with fakes for the Kafka- and HTTP-backed seams. Every response a test
// receives is held against the OpenAPI document: its status must be
// documented for the operation, and its body must match the schema.
import { openSqlHistoryStore } from '../../../../services/dispatcher/src/history/sql-store.js'
import { openSqliteDriver } from '../../../../services/dispatcher/src/history/sqlite-driver.js'
import type { HistoryStore } from '../../../../services/dispatcher/src/history/store.js'
import { PassThrough } from 'node:stream'
import { expect } from 'vitest'
import { createSsrfPolicy } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import {
  createAdminApi,
  parseAdminTokens,
  startAdminServer,
  type AdminApiOptions,
  type AdminServer,
  type DeadLetter,
  type DeadLetterOperations,
  type EndpointHealth,
  type TestEventResult
} from '../../../../services/dispatcher/src/http/admin-api.js'
import { createLogger } from '../../../../services/dispatcher/src/logger.js'
import { matchesFilter, type RedriveFilter } from '../../../../services/dispatcher/src/dead-letters/filter.js'
import { PageCollector, type Page, type PageRequest } from '../../../../services/dispatcher/src/dead-letters/page.js'
import type { DeadLetterRedriveCounts, RedriveRequest } from '../../../../services/dispatcher/src/dead-letters/view.js'
import { MemorySubscriptionStore } from '../../../../services/dispatcher/src/subscriptions/memory-store.js'
import type { Subscription } from '../../../../services/dispatcher/src/subscriptions/types.js'
import { checkSchema, openApiDocument, resolveRef } from './schema-check.js'

export { openApiDocument }

/** Plain tokens of the test configuration (at least 24 characters each). */
export const TOKENS = Object.freeze({
  tenantA: 'tenant-a-token-0123456789abcdef',
  tenantB: 'tenant-b-token-0123456789abcdef',
  operator: 'operator-token-0123456789abcdef'
})
export const TENANT_A = 'tenant-a'
export const TENANT_B = 'tenant-b'

/** In-memory dead letters, filtered and paged exactly as the Kafka-backed listing does (`matchesFilter`, `PageCollector`). */
export class FakeDeadLetters implements DeadLetterOperations {
  letters: DeadLetter[] = []
  readonly listCalls: Array<{ filter: RedriveFilter, limit: number, page: PageRequest }> = []
  readonly redriveCalls: Array<{ filter: RedriveFilter, dryRun: boolean, again: boolean, by: string }> = []
  /** Resolve to let a pending redrive finish (when set). */
  gate: Promise<void> | undefined
  /** What the next redrive rejects with (a lock held elsewhere), when set. */
  failWith: unknown

  async list (filter: RedriveFilter, page: PageRequest): Promise<Page<DeadLetter>> {
    this.listCalls.push({ filter, limit: page.limit, page })
    const collector = new PageCollector<DeadLetter>(page)
    for (const letter of this.letters) {
      if (matchesFilter(letter, filter)) collector.offer({ partition: letter.partition, offset: BigInt(letter.offset) }, letter.reason, letter.state, () => letter)
    }
    return collector.page()
  }

  /** Redriven letters become `redriven`, as the state topic records them; letters not `dead` are skipped unless `again`. */
  async redrive (filter: RedriveFilter, { dryRun, again, by }: RedriveRequest): Promise<DeadLetterRedriveCounts> {
    this.redriveCalls.push({ filter, dryRun, again, by })
    if (this.gate !== undefined) await this.gate
    if (this.failWith !== undefined) throw this.failWith
    const scanned = this.letters.length
    const matched = this.letters.filter((letter) => matchesFilter(letter, filter))
    const redrivable = matched.filter((letter) => again || letter.state === 'dead')
    if (!dryRun) {
      for (const letter of redrivable) {
        letter.state = 'redriven'
        letter.redrivenBy = by
        letter.redrives = (letter.redrives ?? 0) + 1
      }
    }
    const skipped = matched.length - redrivable.length
    return { scanned, matched: matched.length, redriven: redrivable.length, skipped, complete: true, skippedByReason: skipped === 0 ? {} : { 'already-redriven': skipped }, redriveId: 'redrive-1' }
  }
}

export interface Harness {
  api: AdminServer
  base: string
  store: MemorySubscriptionStore
  deadLetters: FakeDeadLetters
  /** Subscriptions the test-event seam was called with. */
  testEvents: Subscription[]
  /** What the test-event seam answers next. */
  testEventResult: TestEventResult
  /** What the status seam answers, by endpoint id. */
  health: Map<string, EndpointHealth>
  /** Endpoints the probe seam was called with. */
  probes: string[]
  /** The history index the history routes read (SQLite in memory); the payload seam renders `{ eventId }`. */
  history: HistoryStore
  /** Everything the API logged, one JSON object per line. */
  logs: () => string
  /** Advances the store's and the API's clock. */
  advance: (ms: number) => void
  close: () => Promise<void>
}

export async function startHarness (overrides: Partial<AdminApiOptions> = {}): Promise<Harness> {
  let clock = Date.parse('2025-01-15T10:00:00Z')
  const now = (): number => clock
  // Loopback is allowed so a test can point an endpoint at a local receiver;
  // private ranges stay blocked to exercise WHD_ERR_SSRF_BLOCKED.
  const ssrf = createSsrfPolicy({ allowCidrs: ['127.0.0.0/8'], allowHttp: false })
  const store = new MemorySubscriptionStore({ ssrf, now })
  const deadLetters = new FakeDeadLetters()
  const history = await openSqlHistoryStore(openSqliteDriver(':memory:'))
  const output = new PassThrough()
  let logged = ''
  output.on('data', (chunk: Buffer) => { logged += chunk.toString('utf8') })
  const harness = {
    store,
    deadLetters,
    testEvents: [] as Subscription[],
    testEventResult: { status: 204, durationMs: 12 } as TestEventResult,
    health: new Map<string, EndpointHealth>(),
    probes: [] as string[],
    history,
    logs: () => logged,
    advance: (ms: number) => { clock += ms }
  }
  const app = createAdminApi({
    store,
    tokens: parseAdminTokens(`${TOKENS.tenantA}:${TENANT_A},${TOKENS.tenantB}:${TENANT_B},${TOKENS.operator}:*`),
    deadLetters,
    sendTestEvent: async (subscription) => {
      harness.testEvents.push(subscription)
      return harness.testEventResult
    },
    endpointStatus: (id) => harness.health.get(id) ?? { recentSuccesses: 0, recentFailures: 0, circuit: 'closed' },
    // As the engine does: the circuit closes at once.
    probeEndpoint: (id) => {
      harness.probes.push(id)
      const health = harness.health.get(id)
      if (health !== undefined) harness.health.set(id, { ...health, circuit: 'closed' })
    },
    history: { store: history, readPayload: async (eventId) => ({ kind: 'found', body: JSON.stringify({ eventId }) }) },
    logger: createLogger('debug', output),
    now,
    ...overrides
  })
  const api = await startAdminServer(app, { port: 0, host: '127.0.0.1' })
  return Object.assign(harness, {
    api,
    base: `http://127.0.0.1:${api.port}`,
    close: async () => {
      await api.close()
      await history.close()
    }
  })
}

export interface CallOptions {
  /** A key of {@link TOKENS}, a raw token, or null for no authorization header. */
  token?: keyof typeof TOKENS | string | null
  body?: unknown
  /** Sent as is (no JSON encoding). */
  rawBody?: string | Uint8Array
  headers?: Record<string, string>
}

export interface CallResult {
  status: number
  headers: Headers
  /** Parsed JSON body; undefined when empty. */
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string
}

/** The documented path template a request path falls under, for a method (the id must look like one). */
function documentedPath (method: string, path: string): string | undefined {
  const segments = path.split('/')
  return Object.keys(openApiDocument.paths).find((template) => {
    const parts = template.split('/')
    return parts.length === segments.length && method.toLowerCase() in (openApiDocument.paths[template] ?? {}) &&
      parts.every((part, i) => (part === '{id}' || part === '{eventId}' ? /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(decodeURIComponentSafe(segments[i] ?? '')) : part === segments[i]))
  })
}

function decodeURIComponentSafe (text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return ''
  }
}

/** The documented response of an operation for a status, or undefined. */
function documentedResponse (method: string, path: string, status: number): Record<string, unknown> | undefined {
  const paths = openApiDocument.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>
  const response = paths[path]?.[method.toLowerCase()]?.responses?.[String(status)] as Record<string, unknown> | undefined
  if (response === undefined) return undefined
  return (typeof response.$ref === 'string' ? resolveRef(openApiDocument, response.$ref) : response) as Record<string, unknown>
}

/**
 * Calls the API and checks the response against the OpenAPI document: a
 * routed request's status must be documented, and its body must match.
 */
export async function call (harness: Pick<Harness, 'base'>, method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers }
  const token = options.token === undefined ? 'operator' : options.token
  if (token !== null) headers.authorization = `Bearer ${token in TOKENS ? TOKENS[token as keyof typeof TOKENS] : token}`
  let payload: string | Uint8Array | undefined = options.rawBody
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const response = await fetch(`${harness.base}${path}`, { method, headers, ...(payload === undefined ? {} : { body: payload }) })
  const text = await response.text()
  const body: unknown = text === '' ? undefined : JSON.parse(text)
  expect(response.headers.get('cache-control')).toBe('no-store')
  const template = documentedPath(method, path.split('?')[0] ?? '')
  if (template !== undefined) {
    const documented = documentedResponse(method, template, response.status)
    expect(documented, `${method} ${template} answered ${response.status}, which the OpenAPI document does not list`).toBeDefined()
    const schema = (documented?.content as Record<string, { schema: Record<string, unknown> }> | undefined)?.['application/json']?.schema
    if (schema === undefined) {
      expect(text).toBe('')
    } else {
      expect(checkSchema(openApiDocument, schema, body), `${method} ${path} → ${response.status} ${text}`).toEqual([])
    }
  } else if (body !== undefined) {
    expect(checkSchema(openApiDocument, { $ref: '#/components/schemas/Error' }, body)).toEqual([])
  }
  return { status: response.status, headers: response.headers, body, text }
}

/** Creates an endpoint through the API and returns the created body. */
export async function createEndpoint (harness: Pick<Harness, 'base'>, token: keyof typeof TOKENS, body: Record<string, unknown>): Promise<{ endpoint: { id: string, tenantId: string }, secret: string }> {
  const result = await call(harness, 'POST', '/v1/endpoints', { token, body })
  expect(result.status, result.text).toBe(201)
  return result.body
}

export const endpointBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  url: 'https://hooks.fintech.example/banking',
  eventTypes: ['transaction.*', 'account.frozen'],
  ...overrides
})
