// The runbooks must be true: every alert's runbook (deploy/prometheus) and
// the README's Operations section name only flags, routes, metrics,
// variables, error codes, dead-letter reasons and states that exist, and
// every `make redrive ARGS="…"` they give parses as the redrive CLI reads it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { configOptions } from '../../../services/dispatcher/src/config.js'
import { deadLetterStates } from '../../../services/dispatcher/src/dead-letters/lifecycle.js'
import { allErrorClasses } from '../../../services/dispatcher/src/errors.js'
import { apiErrorCodes } from '../../../services/dispatcher/src/http/admin/errors.js'
import { adminRoutes } from '../../../services/dispatcher/src/http/admin/routes.js'
import { createMetrics, deadLetterReasons } from '../../../services/dispatcher/src/metrics.js'
import { parseReplayCommand } from '../../../services/dispatcher/src/replay/command.js'
import { parseRedriveCommand } from '../../../services/dispatcher/src/redrive/command.js'

const root = join(import.meta.dirname, '../../..')
const rulesText = readFileSync(join(root, 'deploy/prometheus/webhook-dispatcher-rules.yml'), 'utf8')
const readme = readFileSync(join(root, 'README.md'), 'utf8')

interface Rule { alert: string, expr: string, annotations: Record<string, string> }
const rules = (parse(rulesText) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules)

/** The README from "## Operations" to the next level-2 heading (its subsections included). */
const operations = ((): string => {
  const start = readme.indexOf('## Operations')
  return readme.slice(start, readme.indexOf('\n## ', start + 1))
})()

const texts: Array<[string, string]> = [
  ...rules.map((rule): [string, string] => [rule.alert, Object.values(rule.annotations).join('\n')]),
  ['README Operations', operations]
]

const metricFamilies = async (): Promise<string[]> => (await createMetrics().registry.getMetricsAsJSON()).map((family) => family.name)

/** `webhooks_nodejs_eventloop_lag_*_seconds` as a pattern. */
const metricPattern = (name: string): RegExp => new RegExp(`^${name.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[a-z0-9_]+')}$`)

/** Routes named as `METHOD /v1/…` or a bare `/v1/…` path, alternatives (`pause|resume`) spread out. */
function namedRoutes (text: string): Array<{ method?: string, path: string }> {
  const found: Array<{ method?: string, path: string }> = []
  for (const match of text.matchAll(/(?:\b(GET|POST|PATCH|DELETE|PUT) )?(?:localhost:\d+)?(\/v1\/[A-Za-z0-9_{}<>$/.|-]*)/g)) {
    const [, method, raw = ''] = match
    const path = raw.replace(/[./]+$/, '')
    const segments = path.split('/')
    const last = segments.at(-1) ?? ''
    for (const alternative of last.split('|')) found.push({ ...(method === undefined ? {} : { method }), path: [...segments.slice(0, -1), alternative].join('/') })
  }
  return found
}

function routeExists ({ method, path }: { method?: string, path: string }): boolean {
  const segments = path.split('/')
  return adminRoutes.some((route) => {
    if (method !== undefined && route.method !== method) return false
    const pattern = route.path.split('/')
    return pattern.length === segments.length && pattern.every((part, i) => part === '{id}' || part === '{eventId}' || part === '{sessionId}' || part === '{replayId}' || part === segments[i])
  })
}

describe('the runbooks', () => {
  it.each(texts)('%s names only metric families the dispatcher exports', async (_where, text) => {
    const families = await metricFamilies()
    const named = [...new Set([...text.matchAll(/\bwebhooks_[a-z0-9_*]*[a-z0-9*]/g)].map((m) => m[0]))]
    const missing = named.filter((name) => !families.some((family) => metricPattern(name).test(family)))
    expect(missing).toEqual([])
  })

  it.each(texts)('%s names only admin API routes that exist', (_where, text) => {
    expect(namedRoutes(text).filter((route) => !routeExists(route))).toEqual([])
  })

  it.each(texts)('%s gives only redrive commands the CLI accepts, with reasons that exist', (_where, text) => {
    // A YAML block may break a command over lines.
    const commands = [...text.replace(/\s*\n\s*/g, ' ').matchAll(/make redrive ARGS="([^"]*)"/g)].map((m) => m[1] ?? '')
    for (const command of commands) {
      const argv = command.split(/\s+/).filter((arg) => arg !== '').map((arg) => arg.replace(/^<[a-z-]+>$/, 'sub-1'))
      expect(() => parseRedriveCommand(argv, { KAFKA_BROKERS: '127.0.0.1:9092' }), command).not.toThrow()
      for (const reason of parseRedriveCommand(argv, { KAFKA_BROKERS: '127.0.0.1:9092' }).filter.reasons ?? []) {
        expect(deadLetterReasons as readonly string[], command).toContain(reason)
      }
    }
  })

  it.each(texts)('%s gives only replay commands the CLI accepts', (_where, text) => {
    const commands = [...text.replace(/\s*\n\s*/g, ' ').matchAll(/make replay ARGS="([^"]*)"/g)].map((m) => m[1] ?? '')
    for (const command of commands) {
      const argv = command.split(/\s+/).filter((arg) => arg !== '').map((arg) => arg.replace(/^<[a-z_-]+>$/, 'x-1'))
      expect(() => parseReplayCommand(argv, { KAFKA_BROKERS: '127.0.0.1:9092' }), command).not.toThrow()
    }
  })

  it.each(texts)('%s names only configuration variables and error codes that exist, and dead-letter states that exist', (_where, text) => {
    const known = new Set<string>([
      // The local stack's ports (deploy/local/stack.sh, postgres.sh), not the dispatcher's.
      'KAFKA_PORT', 'KAFKA_CONTROLLER_PORT', 'REGISTRY_PORT', 'PG_PORT',
      ...configOptions.map((option) => option.variable),
      ...allErrorClasses.map((errorClass) => errorClass.code),
      ...apiErrorCodes
    ])
    // Upper-case words with an underscore that read as a setting (by their unit or kind) or a code.
    const named = [...new Set([...text.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)].map((m) => m[0]))]
      .filter((name) => name.startsWith('WHD_ERR_') || /_(MS|SECONDS|HOURS|TOPIC|KEYS|RECORDS|MEMORY|FLIGHT|HOST|PORT|LEVEL|THRESHOLD|SUFFIX|TOPICS)$/.test(name))
    expect(named.filter((name) => !known.has(name))).toEqual([])
    for (const match of text.matchAll(/\/v1\/dead-letters\?[^\s`]*?\bstate=([a-z-]+)/g)) expect(deadLetterStates as readonly string[]).toContain(match[1])
  })

  it('say nothing that stopped being true when the admin API and the durable disables came', () => {
    for (const [where, text] of texts) {
      for (const stale of ['until the admin API lands', 'in memory only', 'a basic set for now', 'SUBSCRIPTIONS_FILE and restart']) {
        expect(text, where).not.toContain(stale)
      }
    }
  })

  it('use in their annotations only labels their expression keeps', () => {
    for (const rule of rules) {
      const by = [...rule.expr.matchAll(/\bby \(([^)]*)\)/g)].map((m) => (m[1] ?? '').split(',').map((l) => l.trim()))
      const kept = by.length === 0 ? undefined : new Set(by.at(-1))
      const used = [...Object.values(rule.annotations).join('\n').matchAll(/\$labels\.([a-z_]+)/g)].map((m) => m[1] ?? '')
      if (kept === undefined) continue
      expect(used.filter((label) => !kept.has(label)), rule.alert).toEqual([])
    }
  })

  it('are listed in the README, every alert of the rules file by name', () => {
    for (const rule of rules) expect(operations, rule.alert).toContain(`\`${rule.alert}\``)
  })
})
