// The admin API's shapes the portal reads (see /openapi.json).

export interface Endpoint {
  id: string
  tenantId: string
  url: string
  description?: string | null
  eventTypes: string[]
  state: 'enabled' | 'disabled' | 'paused'
  enabled: boolean
  paused: boolean
  revision: number
  createdAt: string
  updatedAt: string
}

export interface Attempt {
  attemptId: string
  eventId: string
  eventType: string
  endpointId: string
  accountId: string
  attemptNumber: number
  lane: string
  kind: string
  outcome: string
  startedAt: string
  durationMs?: number
  httpStatus?: number
  errorCode?: string
  nextAttemptAt?: string
  responseBodyPrefix?: string
}

export interface EventType {
  type: string
  family: string
  description: string
  schema: Record<string, unknown>
  example: unknown
}

export interface Replay {
  id: string
  endpointId: string
  state: 'running' | 'completed' | 'cancelled'
  since: string
  until: string
  eventTypes?: string[]
  onlyFailed: boolean
  createdAt: string
  finishedAt?: string
  reason?: string
  progress: { records: number, scanned: number, matched: number, delivered: number, failed: number, eta?: string }
}

export interface ResendResult {
  eventId: string
  deliveries: Array<{ endpointId: string, delivered: boolean, reason?: string }>
}
