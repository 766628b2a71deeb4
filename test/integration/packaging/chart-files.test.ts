// What the chart ships besides templates: the dashboards and alert rules
// generated from deploy/, the documented values and their schema, and the
// README's values table.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { documentedValues, readmeWithTable } from '../../../deploy/helm/values-table.mjs'
import { chartDir, ciValues, one, render, repoRoot } from './helm.js'

const run = promisify(execFile)
const grafanaDir = join(repoRoot, 'deploy/grafana')
const rulesFile = join(repoRoot, 'deploy/prometheus/webhook-dispatcher-rules.yml')
const dashboardFiles = readdirSync(grafanaDir).filter((f) => f.endsWith('.json')).sort()
const ruleFiles = readdirSync(join(repoRoot, 'deploy/prometheus')).filter((f) => f.endsWith('-rules.yml')).sort()

describe('files copied into the chart', () => {
  it('are byte-identical to deploy/grafana and deploy/prometheus, with nothing extra (deploy/local/helm.sh sync)', () => {
    expect(readdirSync(join(chartDir, 'files/dashboards')).sort()).toEqual(dashboardFiles)
    expect(readdirSync(join(chartDir, 'files/prometheus')).sort()).toEqual(ruleFiles)
    for (const file of dashboardFiles) {
      expect(readFileSync(join(chartDir, 'files/dashboards', file)).equals(readFileSync(join(grafanaDir, file))), `${file}: run deploy/local/helm.sh sync`).toBe(true)
    }
    for (const file of ruleFiles) {
      expect(readFileSync(join(chartDir, 'files/prometheus', file)).equals(readFileSync(join(repoRoot, 'deploy/prometheus', file))), `${file}: run deploy/local/helm.sh sync`).toBe(true)
    }
  })

  it('are what `deploy/local/helm.sh check` checks', async () => {
    await expect(run('bash', [join(repoRoot, 'deploy/local/helm.sh'), 'check'])).resolves.toBeDefined()
  })
})

describe('PrometheusRule', () => {
  // The file's rules, but WebhookDispatcherDown waits out the start-up
  // probe's allowance (5 s × 36 by default) plus 2 minutes.
  const fileGroups = (job: string): unknown => {
    const text = readFileSync(rulesFile, 'utf8').replaceAll('job="webhook-dispatcher"', `job="${job}"`)
    const groups = (parse(text) as { groups: Array<{ rules: Array<Record<string, unknown>> }> }).groups
    for (const rule of groups.flatMap((g) => g.rules)) if (rule.alert === 'WebhookDispatcherDown') rule.for = '300s'
    return groups
  }

  it('holds exactly the rules of deploy/prometheus/webhook-dispatcher-rules.yml (Down waiting out the start-up allowance)', async () => {
    const rendered = await render({ values: [ciValues.minimal], set: ['prometheusRule.enabled=true'] })
    expect(one(rendered, 'PrometheusRule').spec.groups).toEqual(fileGroups('webhook-dispatcher'))
  })

  it('selects the job the ServiceMonitor gives the targets', async () => {
    const rendered = await render({ values: [ciValues.full] })
    const job = (parse(readFileSync(ciValues.full, 'utf8')) as { metrics: { job: string } }).metrics.job
    expect(one(rendered, 'PrometheusRule').spec.groups).toEqual(fileGroups(job))
    const endpoint = one(rendered, 'ServiceMonitor').spec.endpoints[0]
    expect(endpoint.port).toBe('metrics')
    expect(endpoint.relabelings).toContainEqual({ action: 'replace', targetLabel: 'job', replacement: job })
  })

  it('is not rendered unless enabled', async () => {
    const rendered = await render({ values: [ciValues.minimal] })
    expect(rendered.map((m) => m.kind)).not.toContain('PrometheusRule')
    expect(rendered.map((m) => m.kind)).not.toContain('ServiceMonitor')
  })
})

describe('dashboards ConfigMap', () => {
  it('holds exactly the dashboards of deploy/grafana, byte for byte, labelled for the Grafana sidecar', async () => {
    const rendered = await render({ values: [ciValues.full] })
    const configMap = one(rendered, 'ConfigMap', '-dashboards')
    expect(Object.keys(configMap.data as object).sort()).toEqual(dashboardFiles)
    for (const file of dashboardFiles) {
      expect((configMap.data as Record<string, string>)[file] === readFileSync(join(grafanaDir, file), 'utf8'), file).toBe(true)
    }
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1')
  })
})

interface SchemaNode { type?: string, properties?: Record<string, SchemaNode>, additionalProperties?: boolean | object, $ref?: string }

describe('values.yaml', () => {
  const valuesText = readFileSync(join(chartDir, 'values.yaml'), 'utf8')
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode & { definitions: Record<string, SchemaNode> }
  const resolve = (node: SchemaNode): SchemaNode => node.$ref === undefined ? node : schema.definitions[node.$ref.replace('#/definitions/', '')] as SchemaNode

  it('documents every value with a "# --" comment', () => {
    const rows = documentedValues(valuesText)
    expect(rows.length).toBeGreaterThan(50)
    for (const row of rows) expect(row.description.length, row.path).toBeGreaterThan(10)
  })

  it('and values.schema.json describe the same keys, and the schema closes every chart-owned object', () => {
    const documented = documentedValues(valuesText).map((r) => r.path)
    const schemaLeaves: string[] = []
    const walk = (node: SchemaNode, prefix: string): void => {
      const resolved = resolve(node)
      if (resolved.type === 'object' && resolved.properties !== undefined && !documented.includes(prefix)) {
        // `global` belongs to an umbrella chart: it carries other subcharts' keys too.
        if (prefix !== 'global') expect(resolved.additionalProperties, `${prefix || '(root)'} must reject unknown keys`).toBe(false)
        for (const [key, child] of Object.entries(resolved.properties)) walk(child, prefix === '' ? key : `${prefix}.${key}`)
      } else {
        schemaLeaves.push(prefix)
      }
    }
    walk(schema, '')
    expect(schemaLeaves.sort()).toEqual([...documented].sort())
  })

  it('is what the chart README\'s values table shows (node deploy/helm/values-table.mjs regenerates it)', () => {
    const readme = readFileSync(join(chartDir, 'README.md'), 'utf8')
    expect(readmeWithTable(readme, valuesText)).toBe(readme)
    for (const row of documentedValues(valuesText)) expect(readme).toContain(`| \`${row.path}\` |`)
  })
})
