import type { AdminClient } from './admin-client.js'

/** An attempt or outcome as GET /v1/endpoints/{id}/attempts answers it (the fields tests read). */
export interface AttemptView {
  attemptId: string
  eventId: string
  endpointId: string
  attemptNumber: number
  lane: string
  kind: 'attempt' | 'outcome'
  outcome: string
  httpStatus?: number
  errorCode?: string
  startedAt: string
  nextAttemptAt?: string
}

/** Every page of an endpoint's attempts, newest first. */
export async function allAttempts (client: AdminClient, endpointId: string, filters: Record<string, string> = {}): Promise<AttemptView[]> {
  const items: AttemptView[] = []
  let cursor: string | undefined
  do {
    const query = new URLSearchParams({ ...filters, limit: '200', ...(cursor === undefined ? {} : { cursor }) })
    const res = await client.request<{ items: AttemptView[], nextCursor?: string }>('GET', `/v1/endpoints/${endpointId}/attempts?${query.toString()}`)
    if (res.status !== 200) throw new Error(`attempts answered ${res.status}: ${JSON.stringify(res.body)}`)
    items.push(...res.body.items)
    cursor = res.body.nextCursor
  } while (cursor !== undefined)
  return items
}
