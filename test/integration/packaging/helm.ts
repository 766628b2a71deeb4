// Runs the Helm CLI against the chart and parses what it renders.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'
import { chartDir, repoRoot } from './paths.js'

export { chartDir, repoRoot }
const run = promisify(execFile)
export const ciValues = {
  minimal: join(chartDir, 'ci/minimal-values.yaml'),
  full: join(chartDir, 'ci/full-values.yaml'),
  existingSecret: join(chartDir, 'ci/existing-secret-values.yaml'),
  production: join(chartDir, 'ci/production-values.yaml')
} as const

/** The helm binary: HELM_BIN, or the one `deploy/local/helm.sh ensure` builds. */
export function helmBin (): string {
  const bin = process.env.HELM_BIN ?? join(repoRoot, '.tools/bin/helm')
  if (!existsSync(bin)) {
    throw new Error(`no helm at ${bin}: run deploy/local/helm.sh ensure (builds the pinned Helm from the Go module proxy)`)
  }
  return bin
}

export interface HelmResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs helm; resolves with the exit code and output instead of throwing. */
export async function helm (args: string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await run(helmBin(), args, { cwd: repoRoot, maxBuffer: 32 * 1024 * 1024, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number, stdout?: string, stderr?: string }
    if (typeof e.code !== 'number') throw err
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** A rendered Kubernetes object, loosely typed: tests read what they assert on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = { apiVersion: string, kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string> }, [key: string]: any }

export interface RenderOptions {
  values?: string[]
  set?: string[]
  release?: string
  namespace?: string
  /** The API server's version (.Capabilities.KubeVersion); helm's own by default. */
  kubeVersion?: string
}

function templateArgs ({ values = [], set = [], release = 'wd', namespace = 'payments', kubeVersion }: RenderOptions): string[] {
  return ['template', release, chartDir, '--namespace', namespace, ...(kubeVersion === undefined ? [] : ['--kube-version', kubeVersion]), ...values.flatMap((f) => ['-f', f]), ...set.flatMap((s) => ['--set', s])]
}

/** `helm template` as helm prints it; throws with helm's message when rendering fails. */
export async function renderText (options: RenderOptions = {}): Promise<string> {
  const result = await helm(templateArgs(options))
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}):\n${result.stderr}`)
  return result.stdout
}

/** `helm template`, parsed; throws with helm's message when rendering fails. */
export async function render (options: RenderOptions = {}): Promise<Manifest[]> {
  const manifests: Manifest[] = []
  for (const doc of parseAllDocuments(await renderText(options))) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`)
    const value = doc.toJS() as Manifest | null
    if (value !== null) manifests.push(value)
  }
  return manifests
}

/** `helm template` expected to fail: resolves with its error output. */
export async function renderError (options: RenderOptions): Promise<string> {
  const result = await helm(templateArgs(options))
  if (result.code === 0) throw new Error(`helm template succeeded but should have failed (${JSON.stringify(options)})`)
  return result.stderr
}

export function byKind (manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind)
}

/** The one object of a kind; fails when there are none or several. */
export function one (manifests: Manifest[], kind: string, nameSuffix = ''): Manifest {
  const found = byKind(manifests, kind).filter((m) => m.metadata.name.endsWith(nameSuffix))
  if (found.length !== 1) throw new Error(`expected one ${kind}${nameSuffix === '' ? '' : ` named *${nameSuffix}`}, found ${found.length}`)
  return found[0] as Manifest
}
