// Request and response schemas of the delivery-history routes (DESIGN §10).
import { Type, type TSchema } from '@sinclair/typebox'
import { INSTANT_PATTERN } from '../../dead-letters/instant.js'
import { historyOutcomes } from '../../metrics.js'
import { statusClasses } from '../../history/store.js'
import { EndpointId } from '../../subscriptions/schema.js'
import { apiLimits } from './schemas.js'

const shared = <T extends TSchema>(id: string, schema: T): T => ({ ...schema, $id: id })
const ref = (id: string): TSchema => Type.Unsafe({ $ref: `${id}#` })
const isoTime = Type.String({ format: 'date-time' })

/** Event ids are the producers' (UUIDs from the producer library, but any id a Kafka record may carry). */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

export const EventIdParams = Type.Object({
  eventId: Type.String({ pattern: EVENT_ID_PATTERN.source, maxLength: 128, description: 'The event id (the webhook-id header). An event of another tenant answers 404, exactly like an unknown one.' })
})

const Attempt = Type.Object({
  attemptId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  endpointId: Type.String(),
  accountId: Type.String(),
  attemptNumber: Type.Integer({ description: 'For an attempt: its number, from 1, over all lanes. For an outcome: the attempts made so far.' }),
  lane: Type.String({ enum: ['source', 'retry', 'redrive', 'replay', 'manual', 'test'] }),
  kind: Type.String({ enum: ['attempt', 'outcome'], description: 'attempt: an HTTP request was made; outcome: what became of the delivery without one.' }),
  outcome: Type.String({ enum: [...historyOutcomes] }),
  startedAt: isoTime,
  durationMs: Type.Optional(Type.Integer()),
  httpStatus: Type.Optional(Type.Integer()),
  errorCode: Type.Optional(Type.String({ description: 'No answer (timeout, connection-refused, ssrf-blocked, …) or the reason of an outcome (circuit-open, paused, retries-exhausted, …).' })),
  nextAttemptAt: Type.Optional(isoTime),
  responseBodyPrefix: Type.Optional(Type.String({ description: 'The start of the answer, when the deployment keeps it (HISTORY_RESPONSE_BODY_BYTES).' }))
})

const SourceCoordinates = Type.Object({ topic: Type.String(), partition: Type.Integer(), offset: Type.String({ description: 'int64, as text.' }) })

export const historySchemas: readonly TSchema[] = [
  shared('Attempt', Attempt),
  shared('EventHistory', Type.Object({
    eventId: Type.String(),
    eventType: Type.String(),
    accountId: Type.String(),
    occurredAt: isoTime,
    source: SourceCoordinates,
    deliveries: Type.Array(Type.Object({
      endpointId: Type.String(),
      status: Type.String({ enum: ['delivered', 'pending', 'failing', 'dead_lettered', 'dropped'], description: 'From the latest record: delivered; pending (parked or held, not failed yet); failing (failed, will retry); dead_lettered; dropped (endpoint deleted).' }),
      attempts: Type.Array(ref('Attempt'), { description: 'Oldest first.' })
    }))
  })),
  shared('AttemptPage', Type.Object({
    items: Type.Array(ref('Attempt'), { description: 'Newest first.' }),
    nextCursor: Type.Optional(Type.String({ description: 'Pass back as cursor, with the same filters, for the next page.' }))
  })),
  shared('EndpointStats', Type.Object({
    window: Type.String({ enum: ['1h', '24h'] }),
    attempts: Type.Integer(),
    delivered: Type.Integer(),
    successRatio: Type.Union([Type.Number(), Type.Null()], { description: 'delivered / attempts; null without attempts.' }),
    latencyMs: Type.Object({
      p50: Type.Union([Type.Integer(), Type.Null()]),
      p95: Type.Union([Type.Integer(), Type.Null()]),
      p99: Type.Union([Type.Integer(), Type.Null()])
    }, { description: 'Attempt durations, from 5 % buckets (each figure is the bucket\'s upper bound); null without attempts.' })
  })),
  shared('EventPayload', Type.Object({
    eventId: Type.String(),
    body: Type.Unknown({ description: 'The webhook body as sent, rendered from the source record by the code that builds webhooks.' })
  }))
]

const instantForms = 'ISO-8601 with a zone (2024-06-10T08:30:00Z), a date (UTC midnight), or epoch milliseconds'

export const ListAttemptsQuery = Type.Object({
  outcome: Type.Optional(Type.Array(Type.String({ enum: [...historyOutcomes] }), { minItems: 1, maxItems: historyOutcomes.length, description: 'Only these outcomes (the parameter may repeat).' })),
  statusClass: Type.Optional(Type.String({ enum: [...statusClasses], description: 'Only attempts answered with this class of HTTP status; none = attempts without an answer.' })),
  eventType: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  accountId: Type.Optional(Type.String({ minLength: 1, maxLength: apiLimits.filterValueMaxLength })),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: INSTANT_PATTERN, description: `Started at or after (inclusive): ${instantForms}.` })),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: INSTANT_PATTERN, description: `Started before (exclusive): ${instantForms}. Must be later than from, else 400 WHD_ERR_VALIDATION with field to.` })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: apiLimits.pageSizeMax, default: apiLimits.pageSizeDefault })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: apiLimits.cursorMaxLength, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque: nextCursor of the previous page. Any other value answers 400 WHD_ERR_VALIDATION with field cursor.' }))
}, { additionalProperties: false })

export const StatsQuery = Type.Object({
  window: Type.Optional(Type.String({ enum: ['1h', '24h'], default: '1h', description: 'The last hour or the last day.' }))
}, { additionalProperties: false })

export const ResendBody = Type.Object({
  endpointId: Type.Optional({ ...EndpointId, description: 'Only to this endpoint (of the event\'s tenant, taking its type). Left out: to every endpoint the history shows the event went to that still exists and is active.' })
}, { additionalProperties: false })

const ResendDelivery = Type.Object({
  endpointId: Type.String(),
  delivered: Type.Boolean(),
  reason: Type.Optional(Type.String({ enum: ['rejected', 'unreachable', 'paused', 'disabled'], description: 'Not delivered: the endpoint answered non-2xx (rejected) or not at all (unreachable); or it was skipped as paused or disabled (only when no endpointId was named). The attempt\'s detail is in the history.' }))
})

export const resendSchemas: readonly TSchema[] = [
  shared('ResendResult', Type.Object({
    eventId: Type.String(),
    deliveries: Type.Array(ResendDelivery, { description: 'One per endpoint, with the event\'s original webhook-id; each attempt is in the history with lane manual.' })
  }))
]
