// Handlers of the delivery history (DESIGN §10): per event, per endpoint,
// statistics, and the payload read back from Kafka. Tenant isolation (C6):
// every store query is scoped by the caller's tenant, so another tenant's
// event answers 404 exactly like an unknown one; endpoints are already found
// in the caller's scope before a handler runs.
import { parseInstant } from '../../dead-letters/instant.js'
import type { AttemptOutcome } from '../../engine/attempt-log.js'
import { decodeCursor, encodeCursor, quantileOf, type AttemptQuery, type HistoryStore, type IndexedAttempt, type StatusClass } from '../../history/store.js'
import type { Scope } from '../../admin-tokens.js'
import type { Handler, Reply, RequestContext } from './context.js'
import { ApiError, notFound, validationError } from './errors.js'
import { instantReason } from './requests.js'
import { EVENT_ID_PATTERN } from './history-schemas.js'
import type { ReadEventPayload } from './types.js'

export type HistoryOperationId = 'getEvent' | 'getEventPayload' | 'listEndpointAttempts' | 'getEndpointStats'

export interface HistoryHandlerDeps {
  /** Undefined when the deployment keeps no index (HISTORY_STORE=none). */
  store: HistoryStore | undefined
  readPayload: ReadEventPayload | undefined
  now: () => number
}

const WINDOWS = { '1h': 3_600_000, '24h': 86_400_000 } as const

const iso = (ms: number): string => new Date(ms).toISOString()

/** An indexed record as the API shows it: times as ISO-8601, the subscription as the endpoint. */
export function attemptView (a: IndexedAttempt): Record<string, unknown> {
  return {
    attemptId: a.attemptId,
    eventId: a.eventId,
    eventType: a.eventType,
    endpointId: a.subscriptionId,
    accountId: a.accountId,
    attemptNumber: a.attemptNumber,
    lane: a.lane,
    kind: a.kind,
    outcome: a.outcome,
    startedAt: iso(a.startedAt),
    ...(a.durationMs === undefined ? {} : { durationMs: a.durationMs }),
    ...(a.httpStatus === undefined ? {} : { httpStatus: a.httpStatus }),
    ...(a.errorCode === undefined ? {} : { errorCode: a.errorCode }),
    ...(a.nextAttemptAt === undefined ? {} : { nextAttemptAt: iso(a.nextAttemptAt) }),
    ...(a.responseBodyPrefix === undefined ? {} : { responseBodyPrefix: a.responseBodyPrefix })
  }
}

const deliveryStatus: Record<AttemptOutcome, string> = {
  delivered: 'delivered',
  failed: 'failing',
  parked: 'pending',
  held: 'pending',
  dead_lettered: 'dead_lettered',
  dropped: 'dropped'
}

/** The tenant whose history a caller reads: its token's; an operator's reaches every tenant. */
const tenantOf = (scope: Scope): string | undefined => (scope.kind === 'tenant' ? scope.tenantId : undefined)

function parseTime (value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined
  try {
    return parseInstant(String(value))
  } catch {
    throw validationError(field, instantReason(value))
  }
}

export function historyHandlers (deps: HistoryHandlerDeps): Record<HistoryOperationId, Handler> {
  const storeOf = (): HistoryStore => {
    if (deps.store === undefined) throw new ApiError('WHD_ERR_NOT_FOUND', 'this deployment keeps no delivery history (HISTORY_STORE=none)')
    return deps.store
  }
  const eventRecords = async (context: RequestContext): Promise<IndexedAttempt[]> => {
    const eventId = String((context.params ?? {}).eventId ?? '')
    if (!EVENT_ID_PATTERN.test(eventId)) throw notFound('event')
    const records = await storeOf().eventRecords(tenantOf(context.principal.scope), eventId)
    if (records.length === 0) throw notFound('event')
    context.annotate({ eventId })
    return records
  }
  const ok = (body: unknown): Reply => ({ status: 200, body })

  return {
    async getEvent (context) {
      const records = await eventRecords(context)
      const first = records[0] as IndexedAttempt
      const byEndpoint = new Map<string, IndexedAttempt[]>()
      for (const record of records) {
        const list = byEndpoint.get(record.subscriptionId) ?? []
        list.push(record)
        byEndpoint.set(record.subscriptionId, list)
      }
      return ok({
        eventId: first.eventId,
        eventType: first.eventType,
        accountId: first.accountId,
        occurredAt: iso(first.occurredAt),
        source: { topic: first.sourceTopic, partition: first.sourcePartition, offset: first.sourceOffset.toString() },
        deliveries: [...byEndpoint.entries()].map(([endpointId, attempts]) => ({
          endpointId,
          status: deliveryStatus[(attempts.at(-1) as IndexedAttempt).outcome],
          attempts: attempts.map(attemptView)
        }))
      })
    },

    async getEventPayload (context) {
      const records = await eventRecords(context)
      const first = records[0] as IndexedAttempt
      if (deps.readPayload === undefined) throw new ApiError('WHD_ERR_UNAVAILABLE', 'payloads cannot be read here; retry later')
      const read = await deps.readPayload(first.eventId, { topic: first.sourceTopic, partition: first.sourcePartition, offset: first.sourceOffset })
      if (read.kind === 'gone') {
        throw new ApiError('WHD_ERR_GONE', `the event's record (${first.sourceTopic}/${first.sourcePartition}@${first.sourceOffset}) is no longer on Kafka: retention removed it; its delivery history remains`)
      }
      return ok({ eventId: first.eventId, body: JSON.parse(read.body) as unknown })
    },

    async listEndpointAttempts (context) {
      const endpoint = context.endpoint
      if (endpoint === undefined) throw notFound()
      const q = context.query
      const from = parseTime(q.from, 'from')
      const to = parseTime(q.to, 'to')
      if (from !== undefined && to !== undefined && to <= from) throw validationError('to', 'must be later than from')
      let after
      if (q.cursor !== undefined) {
        after = decodeCursor(String(q.cursor))
        if (after === undefined) throw validationError('cursor', 'is not a cursor this API gave out: pass nextCursor back unchanged')
      }
      const query: AttemptQuery = {
        limit: Number(q.limit),
        ...(q.outcome === undefined ? {} : { outcomes: q.outcome as AttemptOutcome[] }),
        ...(q.statusClass === undefined ? {} : { statusClass: q.statusClass as StatusClass }),
        ...(q.eventType === undefined ? {} : { eventType: String(q.eventType) }),
        ...(q.accountId === undefined ? {} : { accountId: String(q.accountId) }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(after === undefined ? {} : { after })
      }
      const page = await storeOf().attempts(endpoint.tenantId, endpoint.id, query)
      return ok({ items: page.items.map(attemptView), ...(page.next === undefined ? {} : { nextCursor: encodeCursor(page.next) }) })
    },

    async getEndpointStats (context) {
      const endpoint = context.endpoint
      if (endpoint === undefined) throw notFound()
      const window = String(context.query.window ?? '1h') as keyof typeof WINDOWS
      const totals = await storeOf().totals(endpoint.tenantId, endpoint.id, deps.now() - WINDOWS[window])
      const q = (p: number): number | null => quantileOf(totals.buckets, p) ?? null
      return ok({
        window,
        attempts: totals.attempts,
        delivered: totals.delivered,
        successRatio: totals.attempts === 0 ? null : totals.delivered / totals.attempts,
        latencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99) }
      })
    }
  }
}
