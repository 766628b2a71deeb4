// The chart's PrometheusRule, evaluated by promtool: alerts aggregate by
// (namespace, job), so releases in different namespaces do not mix; Down
// waits out the start-up probe's allowance; thresholds, labels and extra
// rules come from values. Annotations are left out of the evaluation: their
// texts belong to deploy/prometheus (and its own promtool tests).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { prometheusBinaries, runTool } from '../observability/prometheus.js'
import { ciValues, one, render, renderError } from './helm.js'

interface Rule { alert?: string, record?: string, expr: string, for?: string, labels?: Record<string, string>, annotations?: unknown }
interface Group { name: string, rules: Rule[] }

async function groups (set: string[]): Promise<Group[]> {
  return one(await render({ values: [ciValues.minimal], set: ['prometheusRule.enabled=true', ...set] }), 'PrometheusRule').spec.groups as Group[]
}

describe('PrometheusRule values', () => {
  let promtool = ''
  let dir = ''
  beforeAll(async () => {
    promtool = (await prometheusBinaries()).promtool
    dir = mkdtempSync(join(tmpdir(), 'chart-alerts-'))
  })
  afterAll(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })

  /** promtool test rules on the rendered groups, annotations removed. */
  async function promtoolTest (rendered: Group[], tests: unknown[]): Promise<void> {
    const stripped = rendered.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _, ...rule }) => rule) }))
    writeFileSync(join(dir, 'rules.yml'), stringify({ groups: stripped }))
    writeFileSync(join(dir, 'rules.test.yml'), stringify({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests }))
    const { code, output } = await runTool(promtool, ['test', 'rules', join(dir, 'rules.test.yml')])
    expect(code, output).toBe(0)
  }

  it('keeps releases in different namespaces apart: one failing namespace alerts although the job-wide ratio is low', async () => {
    const series = (namespace: string, outcome: string, perMinute: number): unknown =>
      ({ series: `webhooks_deliveries_total{namespace="${namespace}", job="webhook-dispatcher", outcome="${outcome}"}`, values: `0+${perMinute}x30` })
    await promtoolTest(await groups([]), [{
      interval: '1m',
      input_series: [series('payments-a', 'failed', 60), series('payments-a', 'delivered', 60), series('payments-b', 'failed', 0), series('payments-b', 'delivered', 6000)],
      alert_rule_test: [{
        eval_time: '20m',
        alertname: 'WebhookDeliveryFailureRatioHigh',
        exp_alerts: [{ exp_labels: { severity: 'warning', namespace: 'payments-a', job: 'webhook-dispatcher' } }]
      }]
    }])
  })

  it('does not page Down while a pod is within its start-up allowance, and does after it', async () => {
    const rendered = await groups([])
    const down = rendered.flatMap((g) => g.rules).find((r) => r.alert === 'WebhookDispatcherDown')
    // probes.startup: 5 s × 36 = 3 min, plus 2 min.
    expect(down?.for).toBe('300s')
    const up = (instance: string, values: string): unknown => ({ series: `up{namespace="payments", job="webhook-dispatcher", instance="${instance}"}`, values })
    await promtoolTest(rendered, [{
      interval: '1m',
      // "starting" is unreachable for 4 minutes (the start-up probe allows 3), "dead" for good.
      input_series: [up('starting:9464', '0 0 0 0 1x10'), up('dead:9464', '0x14')],
      alert_rule_test: [
        { eval_time: '4m', alertname: 'WebhookDispatcherDown', exp_alerts: [] },
        { eval_time: '6m', alertname: 'WebhookDispatcherDown', exp_alerts: [{ exp_labels: { severity: 'critical', namespace: 'payments', job: 'webhook-dispatcher', instance: 'dead:9464' } }] }
      ]
    }])
    expect((await groups(['probes.startup.failureThreshold=60'])).flatMap((g) => g.rules).find((r) => r.alert === 'WebhookDispatcherDown')?.for).toBe('420s')
    expect((await groups(['prometheusRule.alerts.WebhookDispatcherDown.for=10m'])).flatMap((g) => g.rules).find((r) => r.alert === 'WebhookDispatcherDown')?.for).toBe('10m')
  })

  it('takes thresholds, severities and labels per alert and labels for every alert, drops disabled alerts, and appends additionalRules', async () => {
    const rendered = await groups([
      'prometheusRule.alerts.WebhookDispatcherConsumerLagHigh.threshold=5000',
      'prometheusRule.alerts.WebhookDispatcherConsumerLagHigh.severity=critical',
      'prometheusRule.alerts.WebhookDispatcherConsumerLagHigh.labels.escalation=payments-oncall',
      'prometheusRule.alerts.WebhookDispatcherRebalanceStorm.enabled=false',
      'prometheusRule.alertLabels.team=payments',
      'prometheusRule.additionalRules[0].record=namespace_job:webhooks_consumer_lag:sum',
      // --set splits at commas unless escaped.
      'prometheusRule.additionalRules[0].expr=sum by (namespace\\, job) (webhooks_consumer_lag)'
    ])
    const rules = rendered.flatMap((g) => g.rules)
    expect(rules.map((r) => r.alert)).not.toContain('WebhookDispatcherRebalanceStorm')
    for (const rule of rules.filter((r) => r.alert !== undefined)) expect(rule.labels?.team, rule.alert).toBe('payments')
    expect(rendered.at(-1)).toEqual({ name: 'wd-webhook-dispatcher-additional', rules: [{ record: 'namespace_job:webhooks_consumer_lag:sum', expr: 'sum by (namespace, job) (webhooks_consumer_lag)' }] })
    const lag = (partition: number, perPartition: number): unknown =>
      ({ series: `webhooks_consumer_lag{namespace="payments", job="webhook-dispatcher", topic="banking.account-events.v1", partition="${partition}"}`, values: `${perPartition}x20` })
    // 6000 records behind: above the new threshold, below the file's 10000.
    await promtoolTest(rendered, [{
      interval: '1m',
      input_series: [lag(0, 3000), lag(1, 3000)],
      alert_rule_test: [{
        eval_time: '15m',
        alertname: 'WebhookDispatcherConsumerLagHigh',
        exp_alerts: [{ exp_labels: { severity: 'critical', team: 'payments', escalation: 'payments-oncall', namespace: 'payments', job: 'webhook-dispatcher', topic: 'banking.account-events.v1' } }]
      }],
      promql_expr_test: [{ expr: 'namespace_job:webhooks_consumer_lag:sum', eval_time: '1m', exp_samples: [{ labels: 'namespace_job:webhooks_consumer_lag:sum{namespace="payments", job="webhook-dispatcher"}', value: 6000 }] }]
    }])
  })

  it('sets every threshold it offers (the rules file still has the comparisons the chart replaces)', async () => {
    const offered = { WebhookDispatcherNoProgress: 600, WebhookDispatcherConsumerLagHigh: 20000, WebhookDeliveryFailureRatioHigh: 0.5, WebhookDispatcherRebalanceStorm: 6 }
    const rules = (await groups(Object.entries(offered).map(([name, value]) => `prometheusRule.alerts.${name}.threshold=${value}`))).flatMap((g) => g.rules)
    for (const [name, value] of Object.entries(offered)) expect(rules.find((r) => r.alert === name)?.expr, name).toContain(`> ${value}`)
  })

  it('refuses an unknown alert name and a threshold where the alert has none', async () => {
    expect(await renderError({ values: [ciValues.minimal], set: ['prometheusRule.enabled=true', 'prometheusRule.alerts.WebhookDispatcherGone.enabled=false'] }))
      .toContain('prometheusRule.alerts.WebhookDispatcherGone: no such alert')
    expect(await renderError({ values: [ciValues.minimal], set: ['prometheusRule.enabled=true', 'prometheusRule.alerts.WebhookDispatcherDown.threshold=1'] }))
      .toContain('prometheusRule.alerts.WebhookDispatcherDown.threshold: the alert has no threshold')
  })

  it('goes to prometheusRule.namespace', async () => {
    const rendered = await render({ values: [ciValues.minimal], set: ['prometheusRule.enabled=true', 'prometheusRule.namespace=monitoring'] })
    expect(one(rendered, 'PrometheusRule').metadata.namespace).toBe('monitoring')
  })
})
