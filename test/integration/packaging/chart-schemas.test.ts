// Every object the chart renders, with every ci/ values file, validated
// strictly against the Kubernetes API and the KEDA and prometheus-operator
// CRDs (schemas generated from their Go modules by deploy/local/kubeconform.sh):
// an unknown field, a wrong type or a malformed quantity fails here, not at
// `helm install` in a bank's cluster.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments, stringify } from 'yaml'
import { chartDir, ciValues, helm, render, renderText, type Manifest } from './helm.js'
import { validate } from './kubeconform.js'

const ciFiles = readdirSync(join(chartDir, 'ci')).filter((f) => f.endsWith('.yaml')).sort()

describe('the ci/ values files', () => {
  it('are all known to the chart tests (each of them runs through chart.test.ts too)', () => {
    expect(Object.values(ciValues).map((f) => f.slice(join(chartDir, 'ci/').length)).sort()).toEqual(ciFiles)
  })
})

describe.each(ciFiles)('ci/%s', (file) => {
  it('renders only objects valid under kubeconform -strict, none skipped', async () => {
    const text = await renderText({ values: [join(chartDir, 'ci', file)] })
    const objects = parseAllDocuments(text).filter((d) => d.contents !== null).length
    const { resources, summary } = await validate(text)
    const failures = resources.filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`)
    expect(failures).toEqual([])
    expect(summary).toEqual({ valid: objects, invalid: 0, errors: 0, skipped: 0 })
  })
})

describe('the production values', () => {
  it('pass helm lint --strict', async () => {
    const result = await helm(['lint', '--strict', chartDir, '-f', ciValues.production])
    expect(result.code, result.stdout + result.stderr).toBe(0)
  })

  it('render the custom resources the review checked, validated against their CRDs', async () => {
    const { resources } = await validate(await renderText({ values: [ciValues.production] }))
    const kinds = resources.map((r) => r.kind)
    for (const kind of ['Deployment', 'ScaledObject', 'TriggerAuthentication', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'PodDisruptionBudget']) {
      expect(kinds, kind).toContain(kind)
    }
    expect(resources.every((r) => r.status === 'statusValid')).toBe(true)
  })
})

describe('the validation itself', () => {
  it('fails on an unknown field, a malformed quantity, an unknown field in a CRD object, and a kind without a schema', async () => {
    const manifests = await render({ values: [ciValues.production] })
    const broken = manifests.map((m) => structuredClone(m))
    const deployment = broken.find((m) => m.kind === 'Deployment') as Manifest
    deployment.spec.template.spec.containers[0].resources.limits.memory = '1.5 Gi'
    deployment.spec.template.spec.containers[0].readinesProbe = deployment.spec.template.spec.containers[0].readinessProbe
    const scaled = broken.find((m) => m.kind === 'ScaledObject') as Manifest
    scaled.spec.triggers[0].metadatas = {}
    broken.push({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })
    const { resources } = await validate(broken.map((m) => stringify(m)).join('---\n'))
    const byKind = Object.fromEntries(resources.map((r) => [r.kind, r]))
    expect(byKind.Deployment?.status).toBe('statusInvalid')
    expect(byKind.Deployment?.msg).toContain("additional properties 'readinesProbe' not allowed")
    expect(byKind.Deployment?.msg).toContain("'1.5 Gi' does not match pattern")
    expect(byKind.ScaledObject?.status).toBe('statusInvalid')
    expect(byKind.ScaledObject?.msg).toContain("additional properties 'metadatas' not allowed")
    expect(byKind.Widget?.status).toBe('statusError')
    expect(byKind.Service?.status).toBe('statusValid')
  })
})
