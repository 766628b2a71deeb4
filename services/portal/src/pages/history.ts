// An endpoint's delivery history: attempts newest first, filtered, each with
// its details and the body as sent (read back from Kafka by the API).
import { api, describeFailure, query } from '../api.js'
import { announce, el, field, jsonBlock, show } from '../dom.js'
import type { Attempt } from '../types.js'
import { resend } from './resend.js'

const OUTCOMES = ['delivered', 'failed', 'parked', 'held', 'dead_lettered', 'dropped']
const CLASSES = ['2xx', '3xx', '4xx', '5xx', 'none']

function select (name: string, values: string[]): HTMLSelectElement {
  return el('select', { name }, el('option', { value: '' }, 'any'), ...values.map((v) => el('option', { value: v }, v)))
}

export async function historySection (endpointId: string): Promise<HTMLElement> {
  const outcome = select('outcome', OUTCOMES)
  const statusClass = select('statusClass', CLASSES)
  const eventType = el('input', { type: 'text', name: 'eventType', placeholder: 'transaction.posted' })
  const accountId = el('input', { type: 'text', name: 'accountId' })
  const results = el('div', { 'aria-live': 'polite' })
  let cursor: string | undefined
  const load = async (append: boolean): Promise<void> => {
    const path = `/v1/endpoints/${encodeURIComponent(endpointId)}/attempts${query({ outcome: outcome.value, statusClass: statusClass.value, eventType: eventType.value.trim(), accountId: accountId.value.trim(), limit: '50', cursor: append ? cursor : undefined })}`
    try {
      const page = await api<{ items: Attempt[], nextCursor?: string }>('GET', path)
      cursor = page.nextCursor
      const rows = page.items.map((a) => attemptRow(a, endpointId))
      if (!append) show(results, page.items.length === 0 ? el('p', {}, 'No deliveries match.') : el('ol', { class: 'attempts', 'data-testid': 'attempts' }))
      const list = results.querySelector('ol')
      if (list !== null) for (const row of rows) list.appendChild(row)
      results.querySelector('button.more')?.remove()
      if (cursor !== undefined) results.appendChild(el('button', { type: 'button', class: 'more', onclick: () => { void load(true) } }, 'Older deliveries'))
    } catch (err) {
      show(results, el('p', { class: 'error' }, describeFailure(err)))
    }
  }
  const form = el('form', { class: 'filters', 'aria-label': 'Filter deliveries' },
    field('Outcome', outcome), field('HTTP status', statusClass), field('Event type', eventType), field('Account', accountId),
    el('button', { type: 'submit' }, 'Filter'))
  form.addEventListener('submit', (event) => { event.preventDefault(); void load(false) })
  const refresh = el('button', { type: 'button', onclick: () => { void load(false) } }, 'Refresh')
  await load(false)
  return el('section', { 'aria-labelledby': 'history-heading' }, el('h2', { id: 'history-heading' }, 'Delivery history'), form, refresh, results)
}

function attemptRow (a: Attempt, endpointId: string): HTMLElement {
  const payload = el('div')
  const resent = el('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'resend-status' })
  const answer = a.httpStatus === undefined ? (a.errorCode ?? a.outcome) : `HTTP ${a.httpStatus}`
  return el('li', {},
    el('details', {},
      el('summary', {},
        el('span', { class: `outcome outcome-${a.outcome}` }, a.outcome), ' ',
        el('span', {}, a.eventType), ' · ', el('span', { class: 'muted' }, answer), ' · ',
        el('time', { datetime: a.startedAt }, new Date(a.startedAt).toLocaleString())),
      el('dl', { class: 'facts' },
        el('dt', {}, 'Event id'), el('dd', {}, el('code', {}, a.eventId)),
        el('dt', {}, 'Account'), el('dd', {}, a.accountId),
        el('dt', {}, 'Attempt'), el('dd', {}, `#${a.attemptNumber} (${a.lane}, ${a.kind})`),
        el('dt', {}, 'Status'), el('dd', {}, answer),
        el('dt', {}, 'Duration'), el('dd', {}, a.durationMs === undefined ? '—' : `${a.durationMs} ms`),
        a.errorCode === undefined ? null : el('dt', {}, 'Error'), a.errorCode === undefined ? null : el('dd', {}, a.errorCode),
        a.nextAttemptAt === undefined ? null : el('dt', {}, 'Next attempt'), a.nextAttemptAt === undefined ? null : el('dd', {}, new Date(a.nextAttemptAt).toLocaleString()),
        a.responseBodyPrefix === undefined ? null : el('dt', {}, 'Response'), a.responseBodyPrefix === undefined ? null : el('dd', {}, el('pre', {}, a.responseBodyPrefix))),
      el('button', {
        type: 'button',
        onclick: () => {
          api<{ body: unknown }>('GET', `/v1/events/${encodeURIComponent(a.eventId)}/payload`)
            .then((p) => { show(payload, el('h3', {}, 'Body as sent'), jsonBlock(p.body)) })
            .catch((err: unknown) => { show(payload, el('p', { class: 'error' }, describeFailure(err))) })
        }
      }, 'Show payload'), ' ',
      el('button', {
        type: 'button',
        onclick: () => {
          resend(a.eventId, endpointId)
            .then((r) => { announce(resent, r.message, r.ok ? 'ok' : 'error') })
            .catch((err: unknown) => { announce(resent, describeFailure(err), 'error') })
        }
      }, 'Resend to this endpoint'),
      resent,
      payload))
}
