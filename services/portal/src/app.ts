// The tenant portal: a small hash-routed page on the public admin API,
// signed in with a portal session cookie (sign-in.ts sets it).
import { api, ApiFailure, describeFailure, whenSessionEnds } from './api.js'
import { el, show } from './dom.js'
import { catalogPage } from './pages/catalog.js'
import { endpointPage } from './pages/endpoint.js'
import { endpointsPage } from './pages/endpoints.js'
import { replayPage } from './pages/replay.js'

interface Principal { kind: string, tenantId?: string, id?: string, expiresAt?: string }

const main = document.getElementById('main') as HTMLElement
const who = document.getElementById('who') as HTMLElement
let principal: Principal | undefined

function signedOut (message: string): void {
  principal = undefined
  show(who)
  show(main, el('h1', {}, 'Signed out'), el('p', { role: 'alert', 'data-testid': 'signed-out' }, message), el('p', {}, 'Ask your bank for a new portal link.'))
}

whenSessionEnds((failure) => { signedOut(failure.message) })

async function route (): Promise<void> {
  if (principal === undefined) return
  const hash = location.hash.replace(/^#/, '') || '/endpoints'
  const [, page = 'endpoints', id] = hash.split('/')
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === `#/${page}`) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  show(main, el('p', { class: 'muted' }, 'Loading…'))
  try {
    if (page === 'endpoints' && id !== undefined) await endpointPage(main, decodeURIComponent(id))
    else if (page === 'catalog') await catalogPage(main)
    else if (page === 'replay') await replayPage(main, id === undefined ? undefined : decodeURIComponent(id))
    else await endpointsPage(main)
  } catch (err) {
    if (err instanceof ApiFailure && err.code === 'WHD_ERR_PORTAL_SESSION_ENDED') return
    show(main, el('h1', {}, 'Something went wrong'), el('p', { role: 'alert', class: 'error' }, describeFailure(err)))
  }
  main.focus()
}

async function start (): Promise<void> {
  try {
    principal = await api<Principal>('GET', '/v1/portal/session')
  } catch (err) {
    signedOut(err instanceof ApiFailure && err.status === 401 ? 'You are not signed in, or your session has ended.' : describeFailure(err))
    return
  }
  const current = principal
  const signOut = el('button', {
    type: 'button',
    onclick: () => {
      if (current.id === undefined) return
      api('DELETE', `/v1/portal-sessions/${encodeURIComponent(current.id)}`).then(() => { signedOut('You signed out.') }).catch((err: unknown) => { signedOut(describeFailure(err)) })
    }
  }, 'Sign out')
  show(who, el('span', { 'data-testid': 'tenant' }, current.tenantId ?? 'operator'), ' ', signOut)
  window.addEventListener('hashchange', () => { void route() })
  await route()
}

void start()
