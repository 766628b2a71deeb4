import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createMetrics } from '../../../services/dispatcher/src/metrics.js'
import { dashboardFiles, dashboardQueries, dataPanels, labelNamesUsed, loadDashboard, metricNamesUsed, rangeSelectors, type Dashboard } from './dashboards.js'
import { prometheusBinaries, rulesFile, rulesTestFile, runTool } from './prometheus.js'

const jobSelector = 'job="webhook-dispatcher"'

/** The rule blocks of the rules file, by alert name (the file is ours and keeps one `- alert:` per rule). */
function ruleBlocks (text: string): Map<string, string> {
  const blocks = new Map<string, string>()
  const parts = text.split(/^ {6}- alert: /m).slice(1)
  for (const part of parts) blocks.set(part.slice(0, part.indexOf('\n')).trim(), part)
  return blocks
}

/** For each alert name in a promtool test file: whether a case expects it firing, and one expects it silent. */
function testedOutcomes (text: string): Map<string, { fires: boolean, silent: boolean }> {
  const outcomes = new Map<string, { fires: boolean, silent: boolean }>()
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    const m = /^\s*alertname:\s*(\S+)/.exec(line)
    if (m === null) return
    const name = m[1] as string
    const entry = outcomes.get(name) ?? { fires: false, silent: false }
    const exp = lines.slice(i + 1, i + 3).join('\n')
    if (/exp_alerts:\s*\[\]/.test(exp)) entry.silent = true
    else if (/exp_alerts:\s*\n\s*- exp_labels:/.test(exp)) entry.fires = true
    outcomes.set(name, entry)
  })
  return outcomes
}

describe('Prometheus alert rules (deploy/prometheus)', () => {
  let promtool = ''
  beforeAll(async () => { promtool = (await prometheusBinaries()).promtool })

  it('pass promtool check rules', async () => {
    const { code, output } = await runTool(promtool, ['check', 'rules', rulesFile])
    expect(code, output).toBe(0)
    expect(output).toContain('SUCCESS: 14 rules found')
  })

  it('pass their promtool unit tests', async () => {
    const { code, output } = await runTool(promtool, ['test', 'rules', rulesTestFile])
    expect(code, output).toBe(0)
    expect(output).toContain('SUCCESS')
  })

  it('fail their unit tests when a threshold is changed (the tests can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rules-mutant-'))
    try {
      const rules = await readFile(rulesFile, 'utf8')
      const mutant = rules.replace('> 0.25', '> 0.75')
      expect(mutant).not.toBe(rules)
      await writeFile(join(dir, 'webhook-dispatcher-rules.yml'), mutant)
      await copyFile(rulesTestFile, join(dir, 'webhook-dispatcher-rules.test.yml'))
      const { code, output } = await runTool(promtool, ['test', 'rules', join(dir, 'webhook-dispatcher-rules.test.yml')])
      expect(code, output).not.toBe(0)
      expect(output).toContain('WebhookDeliveryFailureRatioHigh')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('each alert selects the job, carries severity, summary, description and runbook, and is tested firing and silent', async () => {
    const blocks = ruleBlocks(await readFile(rulesFile, 'utf8'))
    const tested = testedOutcomes(await readFile(rulesTestFile, 'utf8'))
    expect([...blocks.keys()].sort()).toEqual([
      'WebhookDeadLettersIncreasing',
      'WebhookDeliveryFailureRatioHigh',
      'WebhookDispatcherConsumerLagHigh',
      'WebhookDispatcherDown',
      'WebhookDispatcherNoProgress',
      'WebhookDispatcherRebalanceStorm',
      'WebhookEndpointsBeingDisabled',
      'WebhookHistoryIndexerBehind',
      'WebhookHistoryWritesFailing',
      'WebhookParkedBacklogGrowing',
      'WebhookPartitionStoppedAtUndecodableBatch',
      'WebhookReplayStalled',
      'WebhookSubscriptionRecordsTampered',
      'WebhookSubscriptionsQuarantined'
    ])
    for (const [name, block] of blocks) {
      const expr = /expr: \|\n([\s\S]*?)\n {8}\w/.exec(block)?.[1] ?? ''
      // Every metric selector carries the job selector, so one replacement retargets the rules.
      const selectors = [...expr.matchAll(/\b(?:up|webhooks_\w+)(\{[^}]*\})?/g)]
      expect(selectors.length, name).toBeGreaterThan(0)
      for (const s of selectors) expect(s[1] ?? '', `${name}: ${s[0]}`).toContain(jobSelector)
      expect(block, name).toMatch(/\n {8}for: \d+[smh]\n/)
      expect(block, name).toMatch(/severity: (critical|warning)\n/)
      expect(block, name).toMatch(/\n {10}summary: '.{10,}'\n/)
      expect(block, name).toMatch(/\n {10}description: '.{10,}'\n/)
      const runbook = /\n {10}runbook: \|\n((?: {12}.*\n)+)/.exec(block)?.[1] ?? ''
      expect(runbook, name).toMatch(/Meaning:/)
      expect(runbook, name).toMatch(/Check:/)
      expect(runbook, name).toMatch(/Fix:/)
      expect(tested.get(name), name).toEqual({ fires: true, silent: true })
    }
  })
})

describe('Grafana dashboards (deploy/grafana)', () => {
  // Every series name the dispatcher exports, histograms expanded to their series.
  const exported = new Set<string>()
  beforeAll(async () => {
    const metrics = createMetrics()
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      exported.add(m.name)
      if (m.type.toString() === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${m.name}${suffix}`)
    }
  })

  // Bounded labels only: no tenant, endpoint, subscription or account ids.
  const allowedLabels = new Set(['job', 'instance', 'outcome', 'status_class', 'lane', 'reason', 'topic', 'partition', 'state', 'le', 'reader', 'codec'])

  for (const uid of Object.keys(dashboardFiles) as Array<keyof typeof dashboardFiles>) {
    describe(uid, () => {
      let dashboard: Dashboard
      beforeAll(async () => { dashboard = await loadDashboard(uid) })

      it('has its fixed uid, schema version 39 and a prometheus datasource variable used by every panel and query', () => {
        expect(dashboard.uid).toBe(uid)
        expect(dashboard.schemaVersion).toBe(39)
        const datasource = dashboard.templating.list.find((v) => v.name === 'datasource')
        expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' })
        for (const panel of dataPanels(dashboard)) {
          expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' })
          for (const t of panel.targets ?? []) expect(t.datasource, `${panel.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' })
        }
      })

      it('uses timeseries and stat panels, each with a unit, a description, a query and its own place', () => {
        const panels = dataPanels(dashboard)
        const types = new Set(panels.map((p) => p.type))
        expect([...types].sort()).toEqual(['stat', 'timeseries'])
        expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length)
        for (const panel of panels) {
          expect(panel.fieldConfig?.defaults?.unit, panel.title).toMatch(/^\w+$/)
          expect(panel.description?.length ?? 0, `${panel.title} needs a description saying what to do`).toBeGreaterThanOrEqual(60)
          expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0)
        }
        // No two panels overlap on the grid.
        for (const [i, a] of panels.entries()) {
          for (const b of panels.slice(i + 1)) {
            const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w &&
              a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h
            expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false)
          }
        }
      })

      it('rates over $__rate_interval, reads only exported metrics, and groups by bounded labels only', () => {
        for (const { panel, target } of dashboardQueries(dashboard)) {
          const where = `${panel.title} ${target.refId}: ${target.expr}`
          for (const m of target.expr.matchAll(/\b(i?rate)\(/g)) {
            const call = target.expr.slice(m.index)
            expect(/^i?rate\([^[]*\[\$__rate_interval\]\)/.test(call), `${where}: rate() over $__rate_interval`).toBe(true)
          }
          for (const range of rangeSelectors(target.expr)) expect(['$__rate_interval', '$__range'], where).toContain(range)
          const metrics = metricNamesUsed(target.expr)
          expect(metrics.size, where).toBeGreaterThan(0)
          for (const name of metrics) expect(exported.has(name), `${where}: ${name} is not exported by the dispatcher`).toBe(true)
          for (const label of labelNamesUsed(target.expr, target.legendFormat)) {
            expect(allowedLabels.has(label), `${where}: label ${label}`).toBe(true)
          }
        }
      })
    })
  }

  it('the label check would catch a tenant or endpoint label', () => {
    expect(labelNamesUsed('sum by (tenant_id) (rate(webhooks_deliveries_total{endpoint="x"}[5m]))', '{{subscription}}'))
      .toEqual(new Set(['tenant_id', 'endpoint', 'subscription']))
  })
})
