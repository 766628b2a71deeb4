// One endpoint: its settings and state, the actions on it, a test event,
// its delivery history and its statistics.
import { api, describeFailure } from '../api.js'
import { announce, el, field, show } from '../dom.js'
import type { Endpoint } from '../types.js'
import { eventTypesOf } from './endpoints.js'
import { historySection } from './history.js'
import { secretPanel } from './secret.js'
import { statsSection } from './stats.js'

export async function endpointPage (main: HTMLElement, id: string): Promise<void> {
  const status = el('div', { role: 'status', 'aria-live': 'polite', 'data-testid': 'endpoint-status' })
  const reload = async (): Promise<void> => { show(main, ...(await sections(id, status))) }
  const act = (label: string, path: string, done: (result: unknown) => Promise<void> | void, confirmText?: string): HTMLButtonElement =>
    el('button', {
      type: 'button',
      onclick: () => {
        if (confirmText !== undefined && !window.confirm(confirmText)) return
        api('POST', `/v1/endpoints/${encodeURIComponent(id)}/${path}`, {}).then(done).catch((err: unknown) => { announce(status, describeFailure(err), 'error') })
      }
    }, label)
  async function sections (endpointId: string, region: HTMLElement): Promise<HTMLElement[]> {
    const current = await api<Endpoint>('GET', `/v1/endpoints/${encodeURIComponent(endpointId)}`)
    const actions = el('div', { class: 'row actions', role: 'group', 'aria-label': 'Endpoint actions' },
      current.paused
        ? act('Resume', 'resume', async () => { await reload(); announce(status, 'Resumed: held events go out in order.') })
        : act('Pause', 'pause', async () => { await reload(); announce(status, 'Paused: events are held, without loss, until you resume.') }),
      current.enabled
        ? act('Disable', 'disable', async () => { await reload(); announce(status, 'Disabled: events are dead-lettered until enabled.') }, 'Disable this endpoint? Its events are dead-lettered until you enable it.')
        : act('Enable', 'enable', async () => { await reload(); announce(status, 'Enabled.') }),
      act('Send test event', 'test', (result) => {
        const r = result as { delivered: boolean, reason?: 'rejected' | 'unreachable' }
        announce(status, r.delivered
          ? 'Test event delivered: your endpoint answered 2xx.'
          : `Test event not delivered: ${r.reason === 'rejected' ? 'your endpoint answered, but not with 2xx' : 'no HTTP answer (connection, TLS or timeout)'}.`, r.delivered ? 'ok' : 'error')
      }),
      act('Rotate secret', 'rotate-secret', (result) => {
        show(status, secretPanel('New signing secret, shown this once (the old one keeps signing alongside for a day):', (result as { secret: string }).secret))
      }, 'Rotate the signing secret? The old one keeps signing alongside for a day.'),
      el('button', {
        type: 'button',
        class: 'danger',
        onclick: () => {
          if (!window.confirm('Delete this endpoint? This cannot be undone.')) return
          api('DELETE', `/v1/endpoints/${encodeURIComponent(endpointId)}`).then(() => { location.hash = '#/endpoints' }).catch((err: unknown) => { announce(status, describeFailure(err), 'error') })
        }
      }, 'Delete'),
      el('a', { href: `#/replay/${encodeURIComponent(endpointId)}` }, 'Replay a time window…'))
    return [
      el('p', {}, el('a', { href: '#/endpoints' }, '← All endpoints')),
      el('h1', {}, 'Endpoint'),
      el('dl', { class: 'facts' },
        el('dt', {}, 'URL'), el('dd', { 'data-testid': 'endpoint-url' }, current.url),
        el('dt', {}, 'State'), el('dd', {}, el('span', { class: `state state-${current.state}`, 'data-testid': 'endpoint-state' }, current.state)),
        el('dt', {}, 'Event types'), el('dd', {}, current.eventTypes.join(', ')),
        el('dt', {}, 'Description'), el('dd', { 'data-testid': 'endpoint-description' }, current.description ?? '—'),
        el('dt', {}, 'Id'), el('dd', {}, el('code', {}, current.id))),
      actions,
      region,
      editForm(current, region, reload),
      await statsSection(endpointId),
      await historySection(endpointId)
    ]
  }
  await reload()
}

function editForm (endpoint: Endpoint, status: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const url = el('input', { type: 'url', value: endpoint.url, required: true })
  const types = el('input', { type: 'text', value: endpoint.eventTypes.join(', '), required: true })
  const description = el('input', { type: 'text', value: endpoint.description ?? '', maxlength: 256 })
  const form = el('form', { class: 'card' },
    field('URL', url), field('Event types', types, 'Comma-separated; * for all.'), field('Description', description),
    el('button', { type: 'submit' }, 'Save changes'))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const patch = { url: url.value.trim(), eventTypes: eventTypesOf(types.value), description: description.value.trim() === '' ? null : description.value.trim() }
    api('PATCH', `/v1/endpoints/${encodeURIComponent(endpoint.id)}`, patch)
      .then(async () => { await reload(); announce(status, 'Saved.') })
      .catch((err: unknown) => { announce(status, describeFailure(err), 'error') })
  })
  return el('details', { class: 'edit' }, el('summary', {}, 'Edit settings'), form)
}
