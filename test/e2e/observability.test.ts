import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { deadLetterReasons } from '../../services/dispatcher/src/metrics.js'
import { decodeFailureReasons } from '../../services/dispatcher/src/errors.js'
import { readTopic } from '../support/dead-letters.js'
import { readMetric } from '../support/dispatcher-process.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'
import { dashboardFiles, dashboardQueries, expandVariables, loadDashboard } from '../integration/observability/dashboards.js'
import { prometheusApi, prometheusBinaries, rulesFile, startPrometheus, stopPrometheus } from '../integration/observability/prometheus.js'

const job = 'webhook-dispatcher'
const sel = `job="${job}"`

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('observability against a real Prometheus', () => {
  let scenario: Scenario | undefined
  let promDir: string | undefined
  afterEach(async () => {
    if (promDir !== undefined) {
      await stopPrometheus(join(promDir, 'data'))
      await rm(promDir, { recursive: true, force: true })
    }
    await scenario?.close()
    scenario = undefined
    promDir = undefined
  })

  it('scrapes the dispatcher: every dashboard query has data, failure and dead-letter alerts fire, healthy-path alerts stay quiet, values match the receivers', async () => {
    await prometheusBinaries() // fails early, with the install hint, when Prometheus is missing

    // A healthy endpoint for everything, and one that answers 500 to every
    // transaction.reversed: with a 2 s retry budget each of those is retried a
    // few times and dead-lettered as retries-exhausted.
    scenario = await createScenario([
      { id: 'sub-ok', tenantId: 'tenant-000', eventTypes: ['*'] },
      { id: 'sub-failing', tenantId: 'tenant-000', eventTypes: ['transaction.reversed'], behaviour: () => ({ status: 500 }) }
    ], { partitions: 4, env: { RETRY_SCHEDULE_MS: '100,200', RETRY_MAX_AGE_SECONDS: '2', CIRCUIT_FAILURE_THRESHOLD: '10000', DELIVERY_TIMEOUT_MS: '2000', CONNECT_TIMEOUT_MS: '1000' } })
    const s = scenario
    const dispatcher = await s.start()
    const ok = s.receivers.get('sub-ok')
    const failing = s.receivers.get('sub-failing')
    if (ok === undefined || failing === undefined) throw new Error('receivers missing')

    // The real rules, except that every `for:` becomes 0s: the rules wait
    // minutes before firing (10 min for the failure ratio), far longer than a test.
    promDir = await mkdtemp(join(tmpdir(), 'whd-prometheus-'))
    const realRules = await readFile(rulesFile, 'utf8')
    let rewritten = 0
    const testRules = realRules.replace(/^(\s+for:)\s+\S+$/gm, (_m, key: string) => { rewritten++; return `${key} 0s` })
    expect(rewritten).toBe(14)
    await writeFile(join(promDir, 'rules.yml'), testRules)
    await writeFile(join(promDir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${join(promDir, 'rules.yml')}`,
      'scrape_configs:',
      `  - job_name: ${job}`,
      '    static_configs:',
      `      - targets: ['${new URL(dispatcher.metricsUrl).host}']`,
      ''
    ].join('\n'))
    const port = await freePort()
    await startPrometheus(join(promDir, 'prometheus.yml'), port, join(promDir, 'data'))
    const prom = prometheusApi(`http://127.0.0.1:${port}`)

    // Counters must have a sample at zero before anything happens, or
    // increase() cannot see the first dead letter.
    await waitUntil('Prometheus has scraped the dispatcher', async () =>
      (await prom.scalar(`up{${sel}}`)) === 1 &&
      (await prom.scalar(`count(webhooks_dead_letters_total{${sel}})`)) === deadLetterReasons.length, { timeoutMs: 20_000, intervalMs: 200 })
    const startS = Date.now() / 1000

    const poison = [{ key: 'acc-000001', value: Buffer.from([0, 1]) }, { key: 'acc-000002', value: Buffer.from([0, 2]) }]
    const first = await s.feed.publishTransactions(s.source, { count: 100, accounts: 20 })
    await s.feed.publishRaw(s.source, poison)
    const second = await s.feed.publishTransactions(s.source, { count: 100, accounts: 20 })
    const produced = [...first, ...second]
    const failingDeliveries = produced.filter((e) => e.eventType === 'transaction.reversed').length
    expect(failingDeliveries).toBeGreaterThan(0)

    const uniqueAccepted = (): number => new Set(ok.accepted().map((r) => r.webhookId)).size
    await waitUntil('the healthy endpoint has every event', () => uniqueAccepted() === produced.length, { timeoutMs: 30_000 })
    await waitUntil('every failing delivery dead-lettered', async () =>
      (await readMetric(dispatcher.metricsUrl, 'webhooks_dead_letters_total{reason="retries-exhausted"}')) === failingDeliveries, { timeoutMs: 30_000 })

    // Prometheus' view, once quiet, equals what the receivers saw.
    const promSum = async (expr: string): Promise<number> => (await prom.scalar(`sum(${expr})`)) ?? Number.NaN
    await waitUntil('Prometheus has the final counts', async () =>
      (await promSum(`webhooks_deliveries_total{${sel}, outcome="delivered"}`)) === ok.accepted().length &&
      (await promSum(`webhooks_deliveries_total{${sel}, outcome="failed"}`)) === failing.received.length &&
      (await promSum(`webhooks_dead_letters_total{${sel}, reason="retries-exhausted"}`)) === failingDeliveries, { timeoutMs: 15_000, intervalMs: 250 })
    // Attempts, not events: a redelivered duplicate counts on both sides.
    const accepted = ok.accepted().length + failing.accepted().length
    expect(failing.accepted().length).toBe(0)
    expect(await promSum(`webhooks_deliveries_total{${sel}, outcome="delivered"}`)).toBe(accepted)
    expect(await promSum(`webhooks_deliveries_total{${sel}, outcome="failed", status_class="5xx"}`)).toBe(failing.received.length)
    expect(await promSum(`webhooks_attempt_duration_seconds_count{${sel}}`)).toBe(accepted + failing.received.length)
    expect(await promSum(`webhooks_end_to_end_lag_seconds_count{${sel}}`)).toBe(accepted)
    const decodeReasons = decodeFailureReasons.join('|')
    expect(await promSum(`webhooks_dead_letters_total{${sel}, reason=~"${decodeReasons}"}`)).toBe(poison.length)
    expect(await promSum(`webhooks_decode_errors_total{${sel}, reason="record-too-short"}`)).toBe(poison.length)
    // ...and what the dead-letter topic holds, reason by reason.
    const letters = await readTopic(s.deadLetter)
    const byReason = new Map<string, number>()
    for (const letter of letters) {
      const reason = letter.headers['whd-dead-letter-reason'] ?? '(none)'
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1)
    }
    expect(Object.fromEntries(byReason)).toEqual({ 'record-too-short': poison.length, 'retries-exhausted': failingDeliveries })
    for (const series of await prom.query(`webhooks_dead_letters_total{${sel}}`)) {
      expect(Number(series.value?.[1]), series.metric.reason).toBe(byReason.get(series.metric.reason ?? '') ?? 0)
    }
    // Everything settled and committed: no lag left on source or retry partitions.
    await waitUntil('consumer lag back to zero', async () =>
      (await prom.query(`webhooks_consumer_lag{${sel}}`)).length >= 8 && (await promSum(`webhooks_consumer_lag{${sel}}`)) === 0, { timeoutMs: 20_000, intervalMs: 250 })

    // Alerts: the failure ratio and the dead letters (per reason) are active;
    // the parked backlog grew while the endpoint failed.
    const active = async () => (await prom.alerts()).map((a) => ({ name: a.labels.alertname, reason: a.labels.reason, state: a.state }))
    await waitUntil('failure-ratio and dead-letter alerts active', async () => {
      const alerts = await active()
      return alerts.some((a) => a.name === 'WebhookDeliveryFailureRatioHigh') &&
        alerts.some((a) => a.name === 'WebhookDeadLettersIncreasing' && a.reason === 'record-too-short') &&
        alerts.some((a) => a.name === 'WebhookDeadLettersIncreasing' && a.reason === 'retries-exhausted')
    }, { timeoutMs: 15_000, intervalMs: 250 })
    const alerts = await active()
    for (const healthy of ['WebhookDispatcherDown', 'WebhookDispatcherNoProgress', 'WebhookDispatcherConsumerLagHigh', 'WebhookEndpointsBeingDisabled', 'WebhookDispatcherRebalanceStorm', 'WebhookPartitionStoppedAtUndecodableBatch', 'WebhookSubscriptionsQuarantined', 'WebhookSubscriptionRecordsTampered', 'WebhookReplayStalled']) {
      expect(alerts.filter((a) => a.name === healthy), healthy).toEqual([])
    }
    const minutes = Math.ceil((Date.now() / 1000 - startS) / 60) + 1
    expect((await prom.query(`ALERTS{alertname="WebhookParkedBacklogGrowing"}[${minutes}m]`)).length).toBeGreaterThan(0)
    for (const group of await prom.rules()) {
      for (const rule of group.rules) expect(rule.health, `${rule.name}: ${rule.lastError ?? ''}`).toBe('ok')
    }

    // Every query of every dashboard panel returns data over the run.
    const endS = Date.now() / 1000
    const variables = { __rate_interval: '10s', __range: `${minutes}m`, job, instance: '.+', datasource: 'unused' }
    for (const uid of Object.keys(dashboardFiles) as Array<keyof typeof dashboardFiles>) {
      for (const { panel, target } of dashboardQueries(await loadDashboard(uid))) {
        const expr = expandVariables(target.expr, variables)
        const result = await prom.queryRange(expr, Math.floor(startS), Math.ceil(endS), 1)
        const hasData = result.some((series) => (series.values ?? []).some(([, v]) => !Number.isNaN(Number(v))))
        expect(hasData, `${uid} / ${panel.title} ${target.refId}: ${expr}`).toBe(true)
      }
    }

    // Bounded labels on the dispatcher's own series: no tenant, endpoint or account ids
    // (role and space: the history threads' heaps, writer/indexer × used/total).
    const labels = await prom.labelNames(`{${sel}, __name__=~"webhooks_.+", __name__!~"webhooks_(process|nodejs)_.+"}`)
    expect(labels.sort()).toEqual(['__name__', 'cause', 'codec', 'instance', 'job', 'lane', 'le', 'outcome', 'partition', 'reader', 'reason', 'role', 'space', 'state', 'status_class', 'topic'])
  }, 90_000)
})
