// The sign-in page: the link's token is in the URL fragment (never sent to a
// server, never in a Referer); exchanging it sets the session cookie. The
// fragment is wiped from the address bar and history first.
import { api, describeFailure } from './api.js'
import { el, show } from './dom.js'

const main = document.getElementById('main') as HTMLElement
/** The link's token from the fragment, which is then wiped from the address bar and history. */
function takeLink (): string {
  const link = decodeURIComponent(location.hash.replace(/^#/, ''))
  history.replaceState(null, '', location.pathname)
  return link
}

async function signIn (link: string): Promise<void> {
  if (link === '') {
    show(main, el('h1', {}, 'Sign-in link missing'), el('p', { role: 'alert' }, 'Open the whole link your bank sent you.'))
    return
  }
  try {
    await api('POST', '/v1/portal/sign-in', { link })
    location.replace('/portal/#/endpoints')
  } catch (err) {
    show(main, el('h1', {}, 'This link cannot sign you in'), el('p', { role: 'alert', 'data-testid': 'sign-in-error' }, describeFailure(err)), el('p', {}, 'Links work once and expire after a few minutes. Ask your bank for a new one.'))
  }
}

// Another link opened in this tab changes only the fragment: no reload.
window.addEventListener('hashchange', () => { if (location.hash !== '') void signIn(takeLink()) })
void signIn(takeLink())
