import { el } from '../dom.js'

/** A new secret, shown once, selectable and copyable. */
export function secretPanel (title: string, secret: string): HTMLElement {
  const value = el('input', { type: 'text', readonly: true, value: secret, class: 'secret', 'aria-label': 'Signing secret', 'data-testid': 'new-secret' })
  const copy = el('button', { type: 'button', onclick: () => { void navigator.clipboard?.writeText(secret) } }, 'Copy')
  return el('div', { class: 'card notice' }, el('p', {}, title), el('div', { class: 'row' }, value, copy),
    el('p', { class: 'muted' }, 'Store it in your receiver now: it is not shown again. Verify webhooks with it (see the integrator guide).'))
}
