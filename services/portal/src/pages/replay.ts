// Resend and replay (DESIGN §11): resend one event by id, replay a time
// window to an endpoint and follow the job, and the endpoint's past
// replays. Both read the events back from Kafka, so neither reaches past
// the source topics' retention; the API's refusals are shown as it words them.
import { api, describeFailure } from '../api.js'
import { announce, el, field, show } from '../dom.js'
import { fromLocalInput, toLocalInput } from '../times.js'
import type { Endpoint, Replay } from '../types.js'
import { eventTypesOf } from './endpoints.js'
import { followReplay } from './replay-job.js'
import { resend } from './resend.js'

const HOUR_MS = 3_600_000

export async function replayPage (main: HTMLElement, endpointId?: string): Promise<void> {
  const endpoints = (await api<{ items: Endpoint[] }>('GET', '/v1/endpoints?limit=200')).items
  if (endpoints.length === 0) {
    show(main, el('h1', {}, 'Resend and replay'), el('p', {}, 'No endpoints yet: add one first.'))
    return
  }
  const chosen = endpoints.some((e) => e.id === endpointId) ? endpointId : endpoints[0]?.id
  show(main,
    el('h1', {}, 'Resend and replay'),
    el('p', { class: 'muted' }, 'Both send events again with their original webhook-id, so a receiver that dedupes on it drops what it already has. They read the events back from the bank\'s event log, so only as far back as it keeps them.'),
    resendSection(endpoints),
    replaySection(endpoints, chosen))
}

function endpointSelect (endpoints: Endpoint[], selected: string | undefined, none?: string): HTMLSelectElement {
  return el('select', {},
    none === undefined ? null : el('option', { value: '' }, none),
    ...endpoints.map((e) => el('option', { value: e.id, selected: e.id === selected }, `${e.url}${e.state === 'enabled' ? '' : ` (${e.state})`}`)))
}

function resendSection (endpoints: Endpoint[]): HTMLElement {
  const eventId = el('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: 'false' })
  const target = endpointSelect(endpoints, undefined, 'every endpoint it went to')
  const status = el('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'resend-status' })
  const form = el('form', { class: 'card', 'aria-labelledby': 'resend-heading' },
    el('h2', { id: 'resend-heading' }, 'Resend one event'),
    el('p', { class: 'muted' }, 'Delivered again now, out of band: not ordered against newer events of its account. Not retried if it fails.'),
    field('Event id', eventId, 'As in the delivery history or the webhook-id header.'),
    field('To', target),
    el('button', { type: 'submit' }, 'Resend'))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    resend(eventId.value.trim(), target.value === '' ? undefined : target.value)
      .then((text) => { announce(status, text.message, text.ok ? 'ok' : 'error') })
      .catch((err: unknown) => { announce(status, describeFailure(err), 'error') })
  })
  return el('section', {}, form, status)
}

function replaySection (endpoints: Endpoint[], chosen: string | undefined): HTMLElement {
  const target = endpointSelect(endpoints, chosen)
  const now = Date.now()
  const since = el('input', { type: 'datetime-local', step: 1, required: true, value: toLocalInput(new Date(now - HOUR_MS)) })
  const until = el('input', { type: 'datetime-local', step: 1, required: true, value: toLocalInput(new Date(now)) })
  const types = el('input', { type: 'text', placeholder: 'all the endpoint takes' })
  const onlyFailed = el('input', { type: 'checkbox' })
  const status = el('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'replay-status' })
  const job = el('div', { class: 'card', 'data-testid': 'replay-job', tabindex: -1, hidden: true })
  const history = el('div')
  const form = el('form', { class: 'card', 'aria-labelledby': 'replay-heading' },
    el('h2', { id: 'replay-heading' }, 'Replay a time window'),
    el('p', { class: 'muted' }, 'Sends again, in order per account, the events of the window that the endpoint takes. The endpoint must be enabled and not paused.'),
    field('Endpoint', target),
    field('Since', since, 'Your local time, inclusive.'),
    field('Until', until, 'Exclusive; not in the future.'),
    field('Only event types', types, 'Optional, comma-separated, within the endpoint\'s own filter.'),
    field('Only events not delivered yet (recover)', onlyFailed),
    el('button', { type: 'submit' }, 'Start replay'))
  const showJob = (replay: Replay): void => {
    job.hidden = false
    followReplay(job, replay, () => { void listReplays(history, replay.endpointId, showJob) })
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const from = fromLocalInput(since.value)
    const to = fromLocalInput(until.value)
    if (from === undefined || to === undefined) {
      announce(status, 'Give both times, to the minute or second.', 'error')
      return
    }
    const filter = eventTypesOf(types.value)
    const body = { since: from, until: to, ...(filter.length === 0 ? {} : { eventTypes: filter }), ...(onlyFailed.checked ? { onlyFailed: true } : {}) }
    api<Replay>('POST', `/v1/endpoints/${encodeURIComponent(target.value)}/replay`, body)
      .then(async (replay) => { announce(status, 'Replay started.'); showJob(replay); await listReplays(history, replay.endpointId, showJob) })
      .catch((err: unknown) => { announce(status, describeFailure(err), 'error') })
  })
  target.addEventListener('change', () => { void listReplays(history, target.value, showJob) })
  if (chosen !== undefined) void listReplays(history, chosen, showJob)
  return el('section', {}, form, status, job,
    el('h2', { id: 'replays-heading' }, 'Replays of this endpoint'), history)
}

async function listReplays (into: HTMLElement, endpointId: string, open: (replay: Replay) => void): Promise<void> {
  try {
    const { items } = await api<{ items: Replay[] }>('GET', `/v1/endpoints/${encodeURIComponent(endpointId)}/replays`)
    show(into, items.length === 0
      ? el('p', {}, 'None yet.')
      : el('ul', { class: 'replays', 'aria-labelledby': 'replays-heading' }, ...items.map((r) => el('li', {},
        el('span', { class: `state state-${r.state}` }, r.state), ' ',
        `${new Date(r.since).toLocaleString()} – ${new Date(r.until).toLocaleString()}: ${r.progress.delivered} of ${r.progress.matched} delivered`, ' ',
        el('button', { type: 'button', onclick: () => { open(r) } }, 'Show')))))
  } catch (err) {
    show(into, el('p', { class: 'error' }, describeFailure(err)))
  }
}
