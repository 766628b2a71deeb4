// The Dockerfile, read as instructions (no Docker engine runs here): the
// runtime stage holds what `make dist` lays out, runs as the non-root user the
// chart expects, exposes the dispatcher's ports and starts it under tini; the
// build context lets in exactly the files the build copies.
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { configOptions } from '../../../services/dispatcher/src/config.js'
import { chartDir, imageEntries, repoRoot } from './paths.js'
import { IMAGE_MALLOC_CONF } from '../../bench/dispatcher-spawn.js'

interface Instruction { keyword: string, args: string }
interface Stage { name: string, from: string, instructions: Instruction[] }

function instructions (text: string): Instruction[] {
  const joined = text.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n').replace(/\\\n/g, ' ')
  return joined.split('\n').map((line) => line.trim()).filter((line) => line !== '').map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/)
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') }
  })
}

const dockerfile = instructions(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))
const stages: Stage[] = []
for (const instruction of dockerfile) {
  if (instruction.keyword === 'FROM') {
    const [from = '', , name = ''] = instruction.args.split(/\s+/)
    stages.push({ name, from, instructions: [] })
  } else {
    stages.at(-1)?.instructions.push(instruction)
  }
}
const runtime = stages.at(-1) as Stage
const args = (stage: Stage, keyword: string): string[] => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args)
const defaultOf = (variable: string): string | undefined => configOptions.find((o) => o.variable === variable)?.defaultValue

interface Copy { from: string | undefined, sources: string[], destination: string }
function copies (stage: Stage): Copy[] {
  return args(stage, 'COPY').map((text) => {
    const words = text.split(/\s+/)
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length)
    const paths = words.filter((w) => !w.startsWith('--'))
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' }
  })
}

describe('Dockerfile', () => {
  it('builds every stage from node:24-slim', () => {
    const arg = dockerfile.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))
    expect(arg?.args).toBe('NODE_IMAGE=node:24-slim')
    expect(stages.map((s) => s.from)).toEqual(stages.map(() => '${NODE_IMAGE}'))
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'runtime'])
  })

  it('compiles with the full dependency set and installs production dependencies the way `make dist` does', () => {
    const build = stages.find((s) => s.name === 'build') as Stage
    expect(args(build, 'RUN').join('\n')).toMatch(/npm ci --ignore-scripts/)
    expect(args(build, 'RUN')).toContain('npm run build')
    const deps = stages.find((s) => s.name === 'deps') as Stage
    const install = args(deps, 'RUN').join('\n')
    expect(install).toContain('npm ci --omit=dev --ignore-scripts')
    expect(readFileSync(join(repoRoot, 'deploy/local/dist.sh'), 'utf8')).toContain('npm ci --omit=dev --ignore-scripts')
  })

  it('preloads jemalloc, installed from Debian, with the settings the benchmarks use', () => {
    expect(args(runtime, 'RUN').join('\n')).toMatch(/apt-get install -y --no-install-recommends [^\n]*\blibjemalloc2\b/)
    expect(args(runtime, 'RUN').join('\n')).toContain('/usr/local/lib/libjemalloc.so.2')
    expect(args(runtime, 'ENV')).toEqual(expect.arrayContaining(['LD_PRELOAD=/usr/local/lib/libjemalloc.so.2', `MALLOC_CONF=${IMAGE_MALLOC_CONF}`]))
  })

  it('puts in /app exactly what `make dist` lays out', () => {
    expect(args(runtime, 'WORKDIR')).toEqual(['/app'])
    const runtimeCopies = copies(runtime)
    // "COPY a b ./" puts a and b in /app; "COPY x ./dir" puts dir there.
    const entries = runtimeCopies.flatMap((c) => c.destination.endsWith('/')
      ? c.sources.map((source) => basename(source))
      : [c.destination.replace(/^\.\//, '').split('/')[0] ?? '']).sort()
    expect(entries).toEqual([...imageEntries])
    expect(runtimeCopies).toContainEqual({ from: 'build', sources: ['/app/dist/services'], destination: './dist/services' })
    expect(runtimeCopies).toContainEqual({ from: 'deps', sources: ['/app/node_modules'], destination: './node_modules' })
    // Nothing copied wholesale from the context.
    for (const stage of stages) for (const copy of copies(stage)) expect(copy.sources).not.toContain('.')
  })

  it('runs as the numeric non-root user the chart sets, with the dispatcher\'s ports', () => {
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number, runAsGroup: number } }
    expect(args(runtime, 'USER')).toEqual([`${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`])
    // USER comes after every RUN: nothing later runs as root.
    const userIndex = runtime.instructions.findIndex((i) => i.keyword === 'USER')
    expect(runtime.instructions.slice(userIndex).filter((i) => i.keyword === 'RUN')).toEqual([])
    expect(args(runtime, 'EXPOSE').join(' ').split(/\s+/).sort()).toEqual([defaultOf('ADMIN_PORT'), defaultOf('HTTP_PORT')].sort())
  })

  it('starts the built dispatcher under tini', () => {
    expect(args(runtime, 'RUN').join('\n')).toMatch(/apt-get install .*\btini\b/)
    expect(JSON.parse(args(runtime, 'ENTRYPOINT')[0] ?? '[]')).toEqual(['/usr/bin/tini', '--'])
    const cmd = JSON.parse(args(runtime, 'CMD')[0] ?? '[]') as string[]
    expect(cmd).toEqual(['node', 'dist/services/dispatcher/src/main.js'])
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { build: string } }
    // The services, then the tenant portal's browser modules and files (served from dist/services/portal).
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json && tsc -p services/portal/tsconfig.json && cp -R services/portal/static dist/services/portal/')
    expect(existsSync(join(repoRoot, 'services/dispatcher/src/main.ts'))).toBe(true)
    expect(args(runtime, 'HEALTHCHECK').join(' ')).toContain('/healthz')
  })
})

describe('.dockerignore', () => {
  it('lets in exactly the files the build copies from the context', () => {
    const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
    expect(lines[0]).toBe('*')
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, '')).sort()
    const fromContext = [...new Set(stages.flatMap((s) => copies(s).filter((c) => c.from === undefined).flatMap((c) => c.sources)))].sort()
    expect(allowed).toEqual(fromContext)
    for (const path of fromContext) expect(existsSync(join(repoRoot, path)), path).toBe(true)
  })
})
