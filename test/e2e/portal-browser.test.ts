// The tenant portal in a real browser (Debian's chromium via playwright-core)
// against the real dispatcher, Kafka and registry: sign in through a portal
// link, create an endpoint, send a test event, see deliveries in the history,
// pause (events held), resume (delivered in order), rotate the secret, resend
// an event from the history, replay a window and follow the job; links
// that are expired, reused or revoked are refused; a tenant's <script> is text.
// With SCREENSHOTS_DIR set (make screenshots) it saves the main pages.
// Page code goes to evaluate() as text: the tests compile without the DOM library.
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminClient, createAdminScenario, TENANT_0, verifies, type AdminClient, type AdminScenario, type SigningReceiver } from '../support/admin-client.js'
import type { DispatcherProcess } from '../support/dispatcher-process.js'
import { launchChromium } from '../support/browser.js'
import { uniqueTopic } from '../support/kafka.js'
import { scaled, waitUntil } from '../support/wait.js'
import { toLocalInput } from '../../services/portal/src/times.js'

const SCRIPT_DESCRIPTION = '<script>window.__portalXss = 1</script><img src=x onerror="window.__portalXss = 2">Payments'
const screenshots = process.env.SCREENSHOTS_DIR

describe('tenant portal in a browser', () => {
  let scenario: AdminScenario
  let dispatcher: DispatcherProcess
  let receiver: SigningReceiver
  let operator: AdminClient
  let browser: Browser
  let page: Page
  const errors: string[] = []

  beforeAll(async () => {
    scenario = await createAdminScenario({ partitions: 2 })
    receiver = await scenario.receiver()
    dispatcher = await scenario.start({
      PORTAL_SESSION_KEY: randomBytes(32).toString('base64'),
      PORTAL_SESSIONS_TOPIC: uniqueTopic('e2e-portal-sessions'),
      PORTAL_LINK_TTL_SECONDS: String(Math.round(10 * Number(process.env.TEST_TIME_SCALE ?? 1))),
      ADMIN_REQUESTS_PER_SECOND: '1000',
      ADMIN_REQUEST_BURST: '1000'
    })
    operator = adminClient(dispatcher.adminUrl, scenario.tokens.operator)
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
    page.setDefaultTimeout(scaled(15_000))
    page.on('pageerror', (err) => errors.push(err.message))
    // Any confirm() (delete, rotate, disable) is accepted.
    page.on('dialog', (dialog) => { void dialog.accept() })
    if (screenshots !== undefined) mkdirSync(screenshots, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await scenario?.close()
  })

  async function mint (): Promise<{ id: string, url: string, expiresAt: string }> {
    const minted = await operator.request('POST', '/v1/portal-sessions', { tenantId: TENANT_0 })
    expect(minted.status, JSON.stringify(minted.body)).toBe(201)
    return minted.body as unknown as { id: string, url: string, expiresAt: string }
  }

  async function snap (name: string): Promise<void> {
    if (screenshots !== undefined) await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true })
  }

  const testEvents = (): number => receiver.requests.filter((r) => (JSON.parse(r.body) as { type: string }).type === 'webhook.test').length
  const bankingEvents = (): Array<{ accountId: string, accountSequence: number, webhookId: string }> => receiver.accepted().filter((r) => r.type !== 'webhook.test')

  let sessionId = ''
  let endpointId = ''
  // The banking events published, and when the first was (floored to the
  // second: the replay form's inputs take seconds): the replay's window.
  let windowStart = 0
  const windowEvents: Array<{ eventId: string, accountId: string }> = []
  const copiesOf = (eventId: string): number => bankingEvents().filter((e) => e.webhookId === eventId).length

  it('signs in through a one-time link: the session cookie is HttpOnly and SameSite=Strict, the link leaves the address bar', async () => {
    const link = await mint()
    sessionId = link.id
    await page.goto(link.url)
    await expect.poll(async () => await page.getByTestId('tenant').textContent(), { timeout: scaled(15_000) }).toBe(TENANT_0)
    expect(page.url()).not.toContain('#whpl')
    const [cookie] = await page.context().cookies()
    expect(cookie).toMatchObject({ name: 'whd_portal', httpOnly: true, sameSite: 'Strict' })
    // Not readable by scripts.
    expect(await page.evaluate('document.cookie')).toBe('')
    const csp = (await page.request.get(`${dispatcher.adminUrl}/portal/`)).headers()['content-security-policy']
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
  })

  it('creates an endpoint, shows its secret once, and renders a <script> description as text', async () => {
    await page.getByLabel('URL').fill(receiver.url)
    await page.getByLabel('Event types').fill('*')
    await page.getByLabel('Description').fill(SCRIPT_DESCRIPTION)
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    const secret = await page.getByTestId('new-secret').inputValue()
    expect(secret).toMatch(/^whsec_/)
    receiver.setSecrets([secret])
    await snap('endpoints')
    await page.getByRole('link', { name: receiver.url }).click()
    await expect.poll(async () => await page.getByTestId('endpoint-description').textContent()).toBe(SCRIPT_DESCRIPTION)
    expect(await page.evaluate('window.__portalXss')).toBeUndefined()
    expect(await page.locator('main script, main img').count()).toBe(0)
    endpointId = decodeURIComponent(page.url().split('#/endpoints/')[1] ?? '')
    expect(endpointId).not.toBe('')
  })

  it('sends a signed test event', async () => {
    await page.getByRole('button', { name: 'Send test event' }).click()
    await expect.poll(async () => await page.getByTestId('endpoint-status').textContent()).toMatch(/Test event delivered/)
    expect(testEvents()).toBe(1)
    expect(receiver.badSignatures()).toBe(0)
  })

  it('shows delivered events in the history, with their attempt details and payload', async () => {
    windowStart = Math.floor(Date.now() / 1000) * 1000
    const produced = await scenario.feed.publishTransactions(scenario.source, { count: 4, accounts: 2, tenants: 1 })
    windowEvents.push(...produced)
    await waitUntil('the events delivered', () => bankingEvents().length >= produced.length, { timeoutMs: 60_000 })
    await waitUntil('the history indexed them', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click()
      return await page.getByTestId('attempts').locator('li').count() >= produced.length
    }, { timeoutMs: 60_000, intervalMs: 500 })
    const first = page.getByTestId('attempts').locator('li').first()
    await first.locator('summary').click()
    await expect.poll(async () => await first.textContent()).toMatch(/delivered.*transaction\./s)
    await first.getByRole('button', { name: 'Show payload' }).click()
    await expect.poll(async () => await first.locator('pre.json').textContent()).toMatch(/"accountSequence"/)
    await snap('endpoint')
  })

  it('pauses (events are held), resumes (they arrive, in order per account)', async () => {
    await page.getByRole('button', { name: 'Pause' }).click()
    await expect.poll(async () => await page.getByTestId('endpoint-state').textContent()).toBe('paused')
    const before = bankingEvents().length
    const held = await scenario.feed.publishTransactions(scenario.source, { count: 6, accounts: 2, tenants: 1 })
    windowEvents.push(...held)
    await waitUntil('the paused endpoint to hold them', async () => {
      const page1 = await operator.request('GET', `/v1/endpoints/${endpointId}/attempts?outcome=held&outcome=parked&limit=200`)
      const ids = new Set(((page1.body as unknown as { items: Array<{ eventId: string }> }).items ?? []).map((a) => a.eventId))
      return held.every((e) => ids.has(e.eventId))
    }, { timeoutMs: 60_000 })
    expect(bankingEvents().length).toBe(before)
    await page.getByRole('button', { name: 'Resume' }).click()
    await expect.poll(async () => await page.getByTestId('endpoint-state').textContent()).toBe('enabled')
    await waitUntil('the held events delivered', () => bankingEvents().length >= before + held.length, { timeoutMs: 60_000 })
    for (const account of new Set(bankingEvents().map((e) => e.accountId))) {
      const sequences = bankingEvents().filter((e) => e.accountId === account).map((e) => e.accountSequence)
      expect(sequences, account).toEqual([...sequences].sort((a, b) => a - b))
    }
    // The statistics and their chart, now that there are deliveries.
    await waitUntil('the statistics to count the deliveries', async () => {
      await page.reload()
      return await page.locator('figure.chart svg').count() === 1
    }, { timeoutMs: 60_000, intervalMs: 500 })
    await snap('endpoint-stats')
  })

  it('rotates the secret: the new one is shown once and signs the next webhook', async () => {
    await page.getByRole('button', { name: 'Rotate secret' }).click()
    const rotated = await page.getByTestId('new-secret').inputValue()
    expect(rotated).toMatch(/^whsec_/)
    await page.getByRole('button', { name: 'Send test event' }).click()
    await waitUntil('a second test event', () => testEvents() === 2)
    const last = receiver.requests.filter((r) => (JSON.parse(r.body) as { type: string }).type === 'webhook.test').at(-1)!
    const signatures = last.signature.split(' ')
    expect(signatures.some((signature) => verifies(last, rotated, signature))).toBe(true)
  })

  it('resends an event from the history: it arrives again with its webhook-id, and a manual attempt appears', async () => {
    const target = windowEvents[0]!
    const before = copiesOf(target.eventId)
    expect(before).toBeGreaterThanOrEqual(1)
    await page.getByRole('button', { name: 'Refresh' }).click()
    const row = page.getByTestId('attempts').locator('li', { hasText: target.eventId }).first()
    await row.locator('summary').click()
    await row.getByRole('button', { name: 'Resend to this endpoint' }).click()
    await expect.poll(async () => await row.getByTestId('resend-status').textContent()).toMatch(/: delivered/)
    await waitUntil('the resent copy', () => copiesOf(target.eventId) === before + 1)
    await waitUntil('the history to show the manual attempt', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click()
      return await page.getByTestId('attempts').locator('li', { hasText: target.eventId }).filter({ hasText: '(manual, ' }).count() === 1
    }, { timeoutMs: 60_000, intervalMs: 500 })
  })

  it('replays a window: the page follows the job until it is done, and every event of the window arrives again, in order per account', async () => {
    await page.getByRole('link', { name: 'Replay a time window…' }).click()
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('input, select, textarea')].filter((e) => e.labels.length === 0 && !e.getAttribute('aria-label')).map((e) => e.outerHTML)`)
    expect(unlabelled).toEqual([])
    // A refusal is shown with its code: until an hour ahead is in the future.
    await page.getByLabel('Since').fill(toLocalInput(new Date(windowStart)))
    await page.getByLabel('Until').fill(toLocalInput(new Date(Date.now() + 3_600_000)))
    await page.getByRole('button', { name: 'Start replay' }).click()
    await expect.poll(async () => await page.getByTestId('replay-status').textContent()).toMatch(/WHD_ERR_REPLAY_RANGE/)
    await page.getByLabel('Until').fill(toLocalInput(new Date(Math.floor(Date.now() / 1000) * 1000)))
    const mark = bankingEvents().length
    const before = new Map(windowEvents.map((e) => [e.eventId, copiesOf(e.eventId)]))
    await page.getByRole('button', { name: 'Start replay' }).click()
    await expect.poll(async () => await page.getByTestId('replay-status').textContent()).toMatch(/Replay started/)
    await expect.poll(async () => await page.getByTestId('replay-state').textContent(), { timeout: scaled(60_000) }).toBe('completed')
    expect(await page.getByTestId('replay-matched').textContent()).toBe(String(windowEvents.length))
    expect(await page.getByTestId('replay-delivered').textContent()).toBe(String(windowEvents.length))
    expect(await page.getByTestId('replay-failed').textContent()).toBe('0')
    await snap('replay')
    await waitUntil('every event of the window again', () => windowEvents.every((e) => copiesOf(e.eventId) === before.get(e.eventId)! + 1))
    // Only those, with their own webhook-ids, in order per account.
    const replayed = bankingEvents().slice(mark)
    expect(replayed.map((e) => e.webhookId).sort()).toEqual(windowEvents.map((e) => e.eventId).sort())
    for (const account of new Set(replayed.map((e) => e.accountId))) {
      const sequences = replayed.filter((e) => e.accountId === account).map((e) => e.accountSequence)
      expect(sequences, account).toEqual([...sequences].sort((a, b) => a - b))
    }
    // The endpoint's replays list it.
    await expect.poll(async () => await page.locator('ul.replays li').first().textContent()).toMatch(new RegExp(`completed.*${windowEvents.length} of ${windowEvents.length} delivered`, 's'))
  })

  it('resends by event id from the resend form, to every endpoint the event went to', async () => {
    const target = windowEvents[1]!
    const before = copiesOf(target.eventId)
    await page.getByLabel('Event id').fill(target.eventId)
    await page.getByRole('button', { name: 'Resend', exact: true }).click()
    await expect.poll(async () => await page.getByTestId('resend-status').textContent()).toMatch(new RegExp(`${endpointId}: delivered`))
    await waitUntil('the resent copy', () => copiesOf(target.eventId) === before + 1)
    // An unknown event is refused, and the refusal is shown with its code.
    await page.getByLabel('Event id').fill('00000000-0000-4000-8000-000000000000')
    await page.getByRole('button', { name: 'Resend', exact: true }).click()
    await expect.poll(async () => await page.getByTestId('resend-status').textContent()).toMatch(/WHD_ERR_NOT_FOUND/)
  })

  it('shows the event catalog', async () => {
    await page.getByRole('link', { name: 'Event catalog' }).click()
    await expect.poll(async () => await page.getByRole('heading', { name: 'transaction.posted' }).count()).toBe(1)
    await snap('catalog')
  })

  it('is labelled and keyboard-usable: every control has a name, and the keyboard reaches and works them', async () => {
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click()
    await page.getByRole('link', { name: receiver.url }).click()
    await expect.poll(async () => await page.getByTestId('endpoint-state').textContent()).toBe('enabled')
    // Every input and select is labelled (a <label for>, or aria-label).
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('input, select, textarea')].filter((e) => e.labels.length === 0 && !e.getAttribute('aria-label')).map((e) => e.outerHTML)`)
    expect(unlabelled).toEqual([])
    // A page moves focus to its content (screen readers start there); Tab goes on in reading order.
    await page.reload()
    await expect.poll(async () => await page.getByTestId('endpoint-state').textContent()).toBe('enabled')
    expect(await page.evaluate('document.activeElement.id')).toBe('main')
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement.textContent')).toBe('← All endpoints')
    // Enter on a focused button acts.
    await page.getByRole('button', { name: 'Pause' }).focus()
    await page.keyboard.press('Enter')
    await expect.poll(async () => await page.getByTestId('endpoint-state').textContent()).toBe('paused')
    await page.getByRole('button', { name: 'Resume' }).focus()
    await page.keyboard.press('Enter')
    await expect.poll(async () => await page.getByTestId('endpoint-state').textContent()).toBe('enabled')
  })

  it('fits a phone: nothing scrolls sideways on the endpoints and the replay pages', async () => {
    await page.setViewportSize({ width: 375, height: 800 })
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click()
    await expect.poll(async () => await page.getByRole('heading', { name: 'Endpoints' }).count()).toBe(1)
    expect(await page.evaluate('document.documentElement.scrollWidth') as number).toBeLessThanOrEqual(375)
    await snap('endpoints-phone')
    await page.getByRole('link', { name: 'Resend & replay' }).click()
    await expect.poll(async () => await page.getByRole('heading', { name: 'Replay a time window' }).count()).toBe(1)
    expect(await page.evaluate('document.documentElement.scrollWidth') as number).toBeLessThanOrEqual(375)
    await page.setViewportSize({ width: 1100, height: 900 })
  })

  it('refuses a used, an expired and a revoked link, and ends a revoked session', async () => {
    const other = await browser.newPage()
    try {
      // A link used once (here, not by the first test: links live
      // PORTAL_LINK_TTL_SECONDS, and on a loaded machine the tests before
      // this one can outlast that).
      const used = await mint()
      await other.goto(used.url)
      await expect.poll(async () => await other.getByTestId('tenant').textContent()).toBe(TENANT_0)
      await other.goto(used.url)
      await expect.poll(async () => await other.getByTestId('sign-in-error').textContent()).toMatch(/WHD_ERR_PORTAL_LINK_USED/)
      const revoked = await mint()
      expect((await operator.request('DELETE', `/v1/portal-sessions/${revoked.id}`)).status).toBe(204)
      await other.goto(revoked.url)
      await expect.poll(async () => await other.getByTestId('sign-in-error').textContent()).toMatch(/WHD_ERR_PORTAL_LINK_REVOKED/)
      const expiring = await mint()
      await waitUntil('the link to expire', () => Date.now() > Date.parse(expiring.expiresAt) + 500, { timeoutMs: 60_000, intervalMs: 250 })
      await other.goto(expiring.url)
      await expect.poll(async () => await other.getByTestId('sign-in-error').textContent()).toMatch(/WHD_ERR_PORTAL_LINK_EXPIRED/)
    } finally {
      await other.close()
    }
    expect((await operator.request('DELETE', `/v1/portal-sessions/${sessionId}`)).status).toBe(204)
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click()
    await page.reload()
    await expect.poll(async () => await page.getByTestId('signed-out').textContent()).toMatch(/revoked|not signed in/)
    expect(errors).toEqual([])
  })
})
