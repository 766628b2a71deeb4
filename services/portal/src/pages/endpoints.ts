// Endpoints: the tenant's list, and a form to create one (its secret shown once).
import { api, describeFailure } from '../api.js'
import { announce, el, field, show } from '../dom.js'
import type { Endpoint } from '../types.js'
import { secretPanel } from './secret.js'

export const eventTypesOf = (text: string): string[] => text.split(',').map((t) => t.trim()).filter((t) => t !== '')

export async function endpointsPage (main: HTMLElement): Promise<void> {
  const status = el('div', { role: 'status', 'aria-live': 'polite' })
  const list = el('div')
  const url = el('input', { type: 'url', name: 'url', required: true, placeholder: 'https://hooks.example.com/banking', autocomplete: 'off' })
  const types = el('input', { type: 'text', name: 'eventTypes', value: '*', required: true })
  const description = el('input', { type: 'text', name: 'description', maxlength: 256 })
  const form = el('form', { class: 'card', 'aria-labelledby': 'create-heading' },
    el('h2', { id: 'create-heading' }, 'Add an endpoint'),
    field('URL', url),
    field('Event types', types, 'Comma-separated: transaction.posted, transaction.*, or * for all. See the event catalog.'),
    field('Description', description),
    el('button', { type: 'submit' }, 'Add endpoint'))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const body = { url: url.value.trim(), eventTypes: eventTypesOf(types.value), ...(description.value.trim() === '' ? {} : { description: description.value.trim() }) }
    api<{ endpoint: Endpoint, secret: string }>('POST', '/v1/endpoints', body).then(async (created) => {
      form.reset()
      types.value = '*'
      show(status, secretPanel('Endpoint added. Its signing secret, shown this once:', created.secret))
      await renderList(list)
    }).catch((err: unknown) => { announce(status, describeFailure(err), 'error') })
  })
  show(main, el('h1', {}, 'Endpoints'), status, list, form)
  await renderList(list)
}

async function renderList (list: HTMLElement): Promise<void> {
  const page = await api<{ items: Endpoint[] }>('GET', '/v1/endpoints?limit=200')
  if (page.items.length === 0) {
    show(list, el('p', {}, 'No endpoints yet: add one below.'))
    return
  }
  show(list, el('table', { class: 'endpoints' },
    el('caption', {}, 'Your webhook endpoints'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Endpoint'), el('th', { scope: 'col' }, 'State'), el('th', { scope: 'col' }, 'Event types'))),
    el('tbody', {}, ...page.items.map((endpoint) => el('tr', {},
      el('td', {}, el('a', { href: `#/endpoints/${encodeURIComponent(endpoint.id)}` }, endpoint.url), endpoint.description === undefined || endpoint.description === null ? null : el('div', { class: 'muted' }, endpoint.description)),
      el('td', {}, el('span', { class: `state state-${endpoint.state}` }, endpoint.state)),
      el('td', {}, endpoint.eventTypes.join(', ')))))))
}
