// One replay job and its progress, re-read every second while it runs (and
// while it is on the page): records in range, scanned, matched, delivered,
// failed, ETA; with a button to cancel it.
import { api, describeFailure } from '../api.js'
import { el, show } from '../dom.js'
import type { Replay } from '../types.js'

const POLL_MS = 1000

// A panel follows one job at a time: showing another starts a new
// generation, and the older loop stops at its next tick.
const generations = new WeakMap<HTMLElement, number>()

/**
 * Shows `job` in `panel` and keeps it current until it is no longer running
 * (then `ended`, once), another job is shown there, or `panel` leaves the page.
 */
export function followReplay (panel: HTMLElement, job: Replay, ended: () => void = () => undefined): void {
  const generation = (generations.get(panel) ?? 0) + 1
  generations.set(panel, generation)
  step(panel, job, ended, generation)
}

function step (panel: HTMLElement, job: Replay, ended: () => void, generation: number): void {
  const current = (): boolean => panel.isConnected && generations.get(panel) === generation
  render(panel, job, ended)
  if (job.state !== 'running') {
    ended()
    return
  }
  window.setTimeout(() => {
    if (!current()) return
    api<Replay>('GET', `/v1/replays/${encodeURIComponent(job.id)}`)
      .then((next) => { if (current()) step(panel, next, ended, generation) })
      .catch((err: unknown) => { panel.appendChild(el('p', { class: 'error', role: 'alert' }, describeFailure(err))) })
  }, POLL_MS)
}

function render (panel: HTMLElement, job: Replay, ended: () => void): void {
  const p = job.progress
  const cancel = job.state !== 'running'
    ? null
    : el('button', {
      type: 'button',
      class: 'danger',
      onclick: () => {
        if (!window.confirm('Cancel this replay? What it delivered stays delivered.')) return
        api<Replay>('DELETE', `/v1/replays/${encodeURIComponent(job.id)}`)
          .then((cancelled) => { followReplay(panel, cancelled, ended) })
          .catch((err: unknown) => { panel.appendChild(el('p', { class: 'error', role: 'alert' }, describeFailure(err))) })
      }
    }, 'Cancel replay')
  // Re-rendered every second: a keyboard user on Cancel keeps the focus there.
  const cancelHadFocus = document.activeElement instanceof HTMLButtonElement && panel.contains(document.activeElement)
  show(panel,
    el('h3', {}, 'Replay ', el('code', {}, job.id)),
    el('p', {}, 'State: ', el('span', { class: `state state-${job.state}`, 'data-testid': 'replay-state' }, job.state),
      job.reason === undefined ? null : el('span', { class: 'muted' }, ` (${job.reason})`)),
    el('progress', { max: Math.max(p.records, 1), value: job.state === 'completed' ? Math.max(p.records, 1) : p.scanned, 'aria-label': 'Records scanned' }),
    el('dl', { class: 'facts', 'data-testid': 'replay-progress' },
      el('dt', {}, 'Window'), el('dd', {}, `${new Date(job.since).toLocaleString()} – ${new Date(job.until).toLocaleString()}`),
      el('dt', {}, 'Records in range'), el('dd', {}, p.records),
      el('dt', {}, 'Scanned'), el('dd', { 'data-testid': 'replay-scanned' }, p.scanned),
      el('dt', {}, 'Matched'), el('dd', { 'data-testid': 'replay-matched' }, p.matched),
      el('dt', {}, 'Delivered'), el('dd', { 'data-testid': 'replay-delivered' }, p.delivered),
      el('dt', {}, 'Failed (retried as usual)'), el('dd', { 'data-testid': 'replay-failed' }, p.failed),
      p.eta === undefined ? null : el('dt', {}, 'Expected end'), p.eta === undefined ? null : el('dd', {}, new Date(p.eta).toLocaleString())),
    cancel)
  if (cancelHadFocus) (cancel ?? panel).focus()
}
