// Support for the admin API end-to-end tests: a small client for the
// dispatcher's admin API, a webhook receiver that keeps every raw request so
// a test can check its signatures against any secret (rotation), Prometheus
// samples summed over several instances, the consumer group's committed
// offsets (how a test knows every record was consumed and settled, DESIGN C1),
// and a scenario of topics, tokens and dispatchers sharing one subscriptions topic.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { startDispatcher, type DispatcherProcess } from './dispatcher-process.js'
import { createEventFeed, type EventFeed } from './event-feed.js'
import { createTestTopics, testKafka, uniqueTopic } from './kafka.js'
import type { ReceivedWebhook } from './webhook-receiver.js'

// ---- tokens ---------------------------------------------------------------

/** A random bearer token (48 characters, above the 24-character minimum). */
export function newAdminToken (): string {
  return randomBytes(24).toString('hex')
}

/** The SHA-256 hex of a token, as `ADMIN_TOKENS` prefers it. */
export function tokenHash (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

// ---- client ---------------------------------------------------------------

/** Any admin API body: errors are `{ error: { code, message, field? } }`. */
export interface ApiBody {
  error?: { code: string, message: string, field?: string }
  [key: string]: unknown
}

export interface AdminResponse<T = ApiBody> {
  status: number
  body: T
  headers: Headers
}

/** An endpoint as the admin API shows it (EndpointView). */
export interface EndpointView {
  id: string
  tenantId: string
  url: string
  eventTypes: string[]
  state: 'enabled' | 'disabled' | 'paused'
  enabled: boolean
  paused: boolean
  activeSecrets: number
  /** Grows with every change; the ETag is its quoted value. */
  revision: number
  description?: string
}

export interface AdminClient {
  request: <T = ApiBody>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>) => Promise<AdminResponse<T>>
  /** `POST /v1/endpoints`; throws unless 201. */
  createEndpoint: (body: Record<string, unknown>) => Promise<{ endpoint: EndpointView, secret: string }>
  /** `GET /v1/endpoints/{id}`: the view, or undefined on 404; throws on anything else. */
  getEndpoint: (id: string) => Promise<EndpointView | undefined>
  /** Every endpoint the token sees, all pages. */
  listEndpoints: (query?: Record<string, string>) => Promise<EndpointView[]>
}

/** A client of one dispatcher's admin API acting with one bearer token. */
export function adminClient (baseUrl: string, token: string): AdminClient {
  const request = async <T = ApiBody>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<AdminResponse<T>> => {
    const headers: Record<string, string> = { ...extraHeaders, authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await res.text()
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: res.headers }
  }
  const client: AdminClient = {
    request,
    async createEndpoint (body) {
      const res = await request<{ endpoint: EndpointView, secret: string }>('POST', '/v1/endpoints', body)
      if (res.status !== 201) throw new Error(`create endpoint answered ${res.status}: ${JSON.stringify(res.body)}`)
      return res.body
    },
    async getEndpoint (id) {
      const res = await request<EndpointView>('GET', `/v1/endpoints/${encodeURIComponent(id)}`)
      if (res.status === 404) return undefined
      if (res.status !== 200) throw new Error(`get endpoint answered ${res.status}: ${JSON.stringify(res.body)}`)
      return res.body
    },
    async listEndpoints (query = {}) {
      const items: EndpointView[] = []
      let cursor: string | undefined
      do {
        const params = new URLSearchParams({ ...query, ...(cursor === undefined ? {} : { cursor }) })
        const res = await request<{ items: EndpointView[], nextCursor?: string }>('GET', `/v1/endpoints${params.size > 0 ? `?${params.toString()}` : ''}`)
        if (res.status !== 200) throw new Error(`list endpoints answered ${res.status}: ${JSON.stringify(res.body)}`)
        items.push(...res.body.items)
        cursor = res.body.nextCursor
      } while (cursor !== undefined)
      return items
    }
  }
  return client
}

// ---- receiver ---------------------------------------------------------------

/** One request as it arrived, before any verification. */
export interface RawWebhook {
  webhookId: string
  timestamp: string
  signature: string
  body: string
  receivedAt: number
}

export interface SigningReceiver {
  url: string
  /** Every request, verified or not, in arrival order. */
  requests: RawWebhook[]
  /** Requests that verified with one of the receiver's secrets, parsed, for the oracle. */
  accepted: () => ReceivedWebhook[]
  /** Requests that verified with none of them (answered 401). */
  badSignatures: () => number
  /** The secrets a request may verify with to be accepted (any one suffices). */
  setSecrets: (secrets: readonly string[]) => void
  /** The status a verified request gets (default 204). */
  setStatus: (status: number) => void
  close: () => Promise<void>
}

/** Whether the `standardwebhooks` library accepts the request with `secret` (and, if given, only this signature header). */
export function verifies (request: RawWebhook, secret: string, signature = request.signature): boolean {
  try {
    new Webhook(secret).verify(request.body, {
      'webhook-id': request.webhookId,
      'webhook-timestamp': request.timestamp,
      'webhook-signature': signature
    })
    return true
  } catch {
    return false
  }
}

/**
 * A webhook endpoint on 127.0.0.1 whose secrets are set after it starts (an
 * endpoint's secret is known only once the admin API created it for the
 * receiver's URL). Keeps each raw request so a test can verify it with
 * other secrets too.
 */
export async function startSigningReceiver (): Promise<SigningReceiver> {
  let secrets: readonly string[] = []
  let status = 204
  const requests: RawWebhook[] = []
  const accepted: ReceivedWebhook[] = []
  let bad = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw: RawWebhook = {
        webhookId: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now()
      }
      requests.push(raw)
      if (!secrets.some((secret) => verifies(raw, secret))) {
        bad++
        res.writeHead(401).end()
        return
      }
      const payload = JSON.parse(raw.body) as { type: string, data: { accountId: string, accountSequence: number } }
      accepted.push({
        webhookId: raw.webhookId,
        type: payload.type,
        accountId: payload.data.accountId,
        accountSequence: payload.data.accountSequence,
        body: payload as unknown as Record<string, unknown>,
        receivedAt: raw.receivedAt,
        status
      })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    requests,
    accepted: () => accepted.filter((r) => r.status >= 200 && r.status < 300),
    badSignatures: () => bad,
    setSecrets: (next) => { secrets = [...next] },
    setStatus: (next) => { status = next },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

// ---- metrics ----------------------------------------------------------------

/**
 * The sum of a metric's samples over several instances, counting only the
 * samples whose labels include every label in `labels`.
 */
export async function sumMetric (metricsUrls: readonly string[], name: string, labels: Record<string, string> = {}): Promise<number> {
  let total = 0
  for (const url of metricsUrls) {
    const text = await (await fetch(url)).text()
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (match === null || match[1] !== name) continue
      const sample = new Map([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
      if (Object.entries(labels).every(([k, v]) => sample.get(k) === v)) total += Number(match[3])
    }
  }
  return total
}

// ---- consumer group ---------------------------------------------------------

/**
 * Whether `group` has committed the end of every partition of `topic`: every
 * record there was consumed and settled (delivered, parked, dead-lettered or
 * dropped), since the dispatcher commits only settled offsets.
 */
export async function groupCaughtUp (group: string, topic: string): Promise<boolean> {
  const admin = (await testKafka('test-lag')).admin()
  await admin.connect()
  try {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]))
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    if (committed === undefined || committed.partitions.length !== ends.size) return false
    // -1: nothing committed, which is caught up only for a partition that never had a record.
    return committed.partitions.every((p) => p.offset === ends.get(p.partition) || (p.offset === '-1' && ends.get(p.partition) === '0'))
  } finally {
    await admin.disconnect()
  }
}

// ---- scenario -------------------------------------------------------------

/** Tenant ids of `publishTransactions(…, { tenants: 2 })`. */
export const TENANT_0 = 'tenant-000'
export const TENANT_1 = 'tenant-001'

/**
 * One admin API scenario: its own source topic, dead-letter topic, consumer
 * group and subscriptions topic (shared by every dispatcher it starts),
 * tokens for two tenants and an operator, and receivers; `close` removes it all.
 */
export interface AdminScenario {
  source: string
  deadLetter: string
  group: string
  /** The retry topic the dispatcher makes for `source` (RETRY_TOPIC_SUFFIX's default: per group). */
  retry: string
  subscriptionsTopic: string
  feed: EventFeed
  tokens: { tenant0: string, tenant1: string, operator: string }
  dispatchers: DispatcherProcess[]
  start: (env?: Record<string, string>) => Promise<DispatcherProcess>
  receiver: () => Promise<SigningReceiver>
  close: () => Promise<void>
}

export async function createAdminScenario ({ partitions = 4 }: { partitions?: number } = {}): Promise<AdminScenario> {
  const source = uniqueTopic('e2e-admin-src')
  const { cleanup } = await createTestTopics([{ topic: source, numPartitions: partitions }])
  const feed = await createEventFeed()
  const receivers: SigningReceiver[] = []
  const tokens = { tenant0: newAdminToken(), tenant1: newAdminToken(), operator: newAdminToken() }
  const group = `e2e-admin-group-${randomUUID()}`
  const scenario: AdminScenario = {
    source,
    deadLetter: uniqueTopic('e2e-admin-dlq'),
    group,
    retry: `${source}.retry.${group}`,
    subscriptionsTopic: uniqueTopic('e2e-admin-subs'),
    feed,
    tokens,
    dispatchers: [],
    start: async (env = {}) => {
      const proc = await startDispatcher({
        SOURCE_TOPICS: source,
        DEAD_LETTER_TOPIC: scenario.deadLetter,
        KAFKA_GROUP_ID: scenario.group,
        SUBSCRIPTIONS_TOPIC: scenario.subscriptionsTopic,
        // Plain tokens for the tenants, the hash for the operator: both forms work.
        ADMIN_TOKENS: `${tokens.tenant0}:${TENANT_0},${tokens.tenant1}:${TENANT_1},${tokenHash(tokens.operator)}:*`,
        ...env
      })
      scenario.dispatchers.push(proc)
      return proc
    },
    receiver: async () => {
      const receiver = await startSigningReceiver()
      receivers.push(receiver)
      return receiver
    },
    close: async () => {
      for (const d of scenario.dispatchers) d.kill('SIGKILL')
      await Promise.all(scenario.dispatchers.map((d) => d.exited))
      await Promise.all(receivers.map((r) => r.close()))
      await feed.close()
      const admin = (await testKafka('test-admin-cleanup')).admin()
      await admin.connect()
      try {
        const existing = new Set(await admin.listTopics())
        const extra = [`${source}.retry`, scenario.deadLetter, scenario.subscriptionsTopic, `webhooks.dead-letter-state.${group}`, `webhooks.replays.${group}`].filter((t) => existing.has(t))
        if (extra.length > 0) await admin.deleteTopics({ topics: extra })
      } finally {
        await admin.disconnect()
        await cleanup()
      }
    }
  }
  return scenario
}
