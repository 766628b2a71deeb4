// The chart as a subchart of a platform team's umbrella chart: Helm hands it
// the parent's `global` values, which values.schema.json must let through
// (keys for other subcharts included), and global.imageRegistry /
// global.imagePullSecrets apply to the dispatcher's image.
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { chartDir, ciValues, helm, one, render, repoRoot, type Manifest } from './helm.js'
import { validate } from './kubeconform.js'

const fixture = join(repoRoot, 'test/fixtures/helm/umbrella')

describe('an umbrella chart with global values', () => {
  let dir = ''
  let text = ''
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbrella-'))
    cpSync(fixture, join(dir, 'umbrella'), { recursive: true })
    cpSync(chartDir, join(dir, 'umbrella/charts/webhook-dispatcher'), { recursive: true })
    const result = await helm(['template', 'platform', join(dir, 'umbrella'), '--namespace', 'payments'])
    expect(result.code, result.stderr).toBe(0)
    text = result.stdout
  })
  afterAll(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })

  it('renders the dispatcher with the global registry and pull secrets before its own', () => {
    const manifests = parseAllDocuments(text).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null)
    const pod = one(manifests, 'Deployment').spec.template.spec
    expect(pod.containers[0].image).toBe('registry.bank.internal:5000/platform/webhook-dispatcher:0.1.0')
    expect(pod.imagePullSecrets).toEqual([{ name: 'bank-registry' }, { name: 'platform-pull' }, { name: 'dispatcher-pull' }])
  })

  it('renders objects that pass kubeconform -strict, and helm lint --strict', async () => {
    const { summary } = await validate(text)
    expect(summary.invalid + summary.errors + summary.skipped).toBe(0)
    expect(summary.valid).toBeGreaterThan(0)
    const lint = await helm(['lint', '--strict', join(dir, 'umbrella')])
    expect(lint.code, lint.stdout + lint.stderr).toBe(0)
  })
})

describe('image.registry', () => {
  it('goes before the repository; global.imageRegistry overrides it; a repeated pull secret appears once', async () => {
    const image = async (set: string[]): Promise<string> =>
      one(await render({ values: [ciValues.minimal], set }), 'Deployment').spec.template.spec.containers[0].image as string
    expect(await image([])).toBe('webhook-dispatcher:0.1.0')
    expect(await image(['image.registry=registry.bank.internal:5000/mirror'])).toBe('registry.bank.internal:5000/mirror/webhook-dispatcher:0.1.0')
    expect(await image(['image.registry=registry.bank.internal', 'global.imageRegistry=mirror.bank.internal'])).toBe('mirror.bank.internal/webhook-dispatcher:0.1.0')
    const pod = one(await render({ values: [ciValues.minimal], set: ['global.imagePullSecrets[0]=shared', 'imagePullSecrets[0].name=shared'] }), 'Deployment').spec.template.spec
    expect(pod.imagePullSecrets).toEqual([{ name: 'shared' }])
    expect(one(await render({ values: [ciValues.minimal] }), 'Deployment').spec.template.spec.imagePullSecrets).toBeUndefined()
  })
})
