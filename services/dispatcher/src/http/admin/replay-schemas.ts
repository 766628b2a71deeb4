// Request and response schemas of the replay routes (DESIGN §11).
import { Type, type TSchema } from '@sinclair/typebox'
import { EventTypes } from '../../subscriptions/schema.js'
import { instant } from './schemas.js'

const shared = <T extends TSchema>(id: string, schema: T): T => ({ ...schema, $id: id })
const ref = (id: string): TSchema => Type.Unsafe({ $ref: `${id}#` })
const isoTime = Type.String({ format: 'date-time' })

export const REPLAY_ID_PATTERN = /^rpl_[0-9a-f-]{36}$/

export const ReplayIdParams = Type.Object({
  replayId: Type.String({ pattern: REPLAY_ID_PATTERN.source, maxLength: 40, description: 'The replay id (rpl_…). Another tenant\'s replay answers 404, exactly like an unknown one.' })
})

export const ReplayBody = Type.Object({
  since: instant('Replay records from this time on (inclusive, by Kafka record timestamp). Before the oldest record retention has left: 400 WHD_ERR_REPLAY_RETENTION, whose message names the earliest time available'),
  until: instant('Up to this time (exclusive). In the future, not after since, or more than REPLAY_MAX_RANGE_HOURS after it: 400 WHD_ERR_REPLAY_RANGE'),
  eventTypes: Type.Optional({ ...EventTypes, description: 'Only these types (exact, prefix.* or *), within the endpoint\'s own filter.' }),
  onlyFailed: Type.Optional(Type.Boolean({ default: false, description: 'Only events whose delivery to this endpoint has not succeeded (per the delivery history). Needs a history index (else 400, field onlyFailed).' }))
}, { additionalProperties: false })

const Replay = Type.Object({
  id: Type.String(),
  endpointId: Type.String(),
  tenantId: Type.String(),
  state: Type.String({ enum: ['running', 'completed', 'cancelled'] }),
  since: isoTime,
  until: isoTime,
  eventTypes: Type.Optional(Type.Array(Type.String())),
  onlyFailed: Type.Boolean(),
  requestedBy: Type.String(),
  createdAt: isoTime,
  updatedAt: isoTime,
  finishedAt: Type.Optional(isoTime),
  reason: Type.Optional(Type.String({ description: 'Why it ended other than completed: cancelled, endpoint-disabled-or-deleted.' })),
  progress: Type.Object({
    records: Type.Integer({ description: 'Records in the range, over every source partition.' }),
    scanned: Type.Integer(),
    matched: Type.Integer({ description: 'Events of the endpoint\'s tenant and filter (and, with onlyFailed, not delivered before).' }),
    delivered: Type.Integer(),
    failed: Type.Integer({ description: 'Failed their replay attempt, or were behind one that did, and went to the retry lane: the normal retry and dead-letter rules apply from there.' }),
    eta: Type.Optional(Type.String({ format: 'date-time', description: 'While running: when the scan should end, at its rate so far.' }))
  })
})

export const replaySchemas: readonly TSchema[] = [
  shared('Replay', Replay),
  shared('ReplayList', Type.Object({ items: Type.Array(ref('Replay'), { description: 'Newest first.' }) }))
]
