// The event catalog: what every webhook body carries (GET /v1/event-types).
import { api } from '../api.js'
import { el, jsonBlock, show } from '../dom.js'
import type { EventType } from '../types.js'

export async function catalogPage (main: HTMLElement): Promise<void> {
  const { eventTypes } = await api<{ eventTypes: EventType[] }>('GET', '/v1/event-types')
  show(main,
    el('h1', {}, 'Event catalog'),
    el('p', {}, 'Every webhook body is {"id", "type", "timestamp", "data"}: id equals the webhook-id header (dedupe on it), data.accountSequence orders each account\'s events. Money is a decimal string, never rounded.'),
    ...eventTypes.map((t) => el('section', { class: 'card', 'aria-labelledby': `type-${t.type}` },
      el('h2', { id: `type-${t.type}` }, el('code', {}, t.type)),
      el('p', {}, t.description),
      el('details', {}, el('summary', {}, 'Example body'), jsonBlock(t.example)),
      el('details', {}, el('summary', {}, 'JSON Schema'), jsonBlock(t.schema)))))
}
