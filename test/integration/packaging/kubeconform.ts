// Validates rendered objects strictly with kubeconform against the schemas
// deploy/local/kubeconform.sh generates from the Kubernetes, KEDA and
// prometheus-operator modules (Go module proxy); no schema is fetched here.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { repoRoot } from './paths.js'

const run = promisify(execFile)
const schemasDir = join(repoRoot, '.tools/kube-schemas')
/** The Kubernetes version of the generated schemas (the stamp names the pins). */
export function kubernetesVersion (): string {
  const stamp = readFileSync(join(schemasDir, '.stamp'), 'utf8')
  const version = /kubernetes v(\S+)/.exec(stamp)?.[1]
  if (version === undefined) throw new Error(`no Kubernetes version in ${schemasDir}/.stamp`)
  return version
}

function kubeconformBin (): string {
  const bin = join(repoRoot, '.tools/bin/kubeconform')
  if (!existsSync(bin) || !existsSync(join(schemasDir, '.stamp'))) {
    throw new Error(`no kubeconform or schemas under .tools: run deploy/local/kubeconform.sh ensure (make kubeconform)`)
  }
  return bin
}

export interface Finding { filename: string, kind: string, name: string, version: string, status: string, msg: string }
export interface Validation { resources: Finding[], summary: { valid: number, invalid: number, errors: number, skipped: number } }

/**
 * kubeconform -strict on a YAML stream: unknown fields, a wrong type, a
 * malformed quantity and a kind without a schema (never skipped) are errors.
 */
export async function validate (yamlText: string): Promise<Validation> {
  const args = [
    '-strict', '-summary', '-output', 'json', '-verbose',
    '-kubernetes-version', kubernetesVersion(),
    '-schema-location', `${schemasDir}/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json`,
    '-schema-location', `${schemasDir}/crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
    '-'
  ]
  const child = run(kubeconformBin(), args, { maxBuffer: 32 * 1024 * 1024, timeout: 60_000 })
  child.child.stdin?.end(yamlText)
  let stdout: string
  try {
    stdout = (await child).stdout
  } catch (err) {
    // Exit 1: some object is invalid; the JSON report is still on stdout.
    const e = err as { code?: number, stdout?: string }
    if (e.code !== 1 || e.stdout === undefined) throw err
    stdout = e.stdout
  }
  return JSON.parse(stdout) as Validation
}
