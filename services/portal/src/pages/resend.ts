// Resending one event (from the resend form or a history row): the API
// delivers it again now with its original webhook-id, lane manual.
import { api } from '../api.js'
import type { ResendResult } from '../types.js'

/** Resends and words the answer: per endpoint, delivered or why not. */
export async function resend (eventId: string, endpointId?: string): Promise<{ ok: boolean, message: string }> {
  const result = await api<ResendResult>('POST', `/v1/events/${encodeURIComponent(eventId)}/resend`, endpointId === undefined ? {} : { endpointId })
  const ok = result.deliveries.length > 0 && result.deliveries.every((d) => d.delivered)
  const parts = result.deliveries.map((d) => d.delivered ? `${d.endpointId}: delivered` : `${d.endpointId}: not delivered (${d.reason ?? 'failed'})`)
  return { ok, message: `Resent ${result.eventId}: ${parts.length === 0 ? 'no endpoint to send it to' : parts.join('; ')}. The attempt is in the history with lane manual.` }
}
