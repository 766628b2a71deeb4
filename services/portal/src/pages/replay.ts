// Resend and replay arrive with issue 17 (their API is being built on
// another branch); this page says so and calls nothing.
import { el, show } from '../dom.js'

export function replayPage (main: HTMLElement): void {
  show(main,
    el('h1', {}, 'Resend and replay'),
    el('p', { class: 'notice card' }, 'Not available yet: resending one event and replaying a time window come with the resend/replay API. Until then, ask the bank\'s operators for a redrive.'))
}
