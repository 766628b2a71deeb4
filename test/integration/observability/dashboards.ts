import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Grafana dashboards shipped in deploy/grafana, by fixed uid. */
export const dashboardFiles = {
  'webhooks-overview': join(import.meta.dirname, '../../../deploy/grafana/webhooks-overview.json'),
  'webhooks-kafka': join(import.meta.dirname, '../../../deploy/grafana/webhooks-kafka.json')
} as const

export interface DashboardTarget { refId: string, expr: string, legendFormat?: string, datasource?: { type?: string, uid?: string } }

export interface DashboardPanel {
  id: number
  type: string
  title: string
  description?: string
  datasource?: { type?: string, uid?: string }
  gridPos: { x: number, y: number, w: number, h: number }
  fieldConfig?: { defaults?: { unit?: string } }
  targets?: DashboardTarget[]
  /** Panels inside a collapsed row. */
  panels?: DashboardPanel[]
}

export interface Dashboard {
  uid: string
  title: string
  schemaVersion: number
  templating: { list: Array<{ type: string, name: string, query?: unknown, allValue?: string }> }
  panels: DashboardPanel[]
}

export async function loadDashboard (uid: keyof typeof dashboardFiles): Promise<Dashboard> {
  return JSON.parse(await readFile(dashboardFiles[uid], 'utf8')) as Dashboard
}

/** Every panel that shows data: rows are flattened away. */
export function dataPanels (dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? p.panels ?? [] : [p]))
}

/** Every query of the dashboard with the panel it belongs to. */
export function dashboardQueries (dashboard: Dashboard): Array<{ panel: DashboardPanel, target: DashboardTarget }> {
  return dataPanels(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })))
}

/**
 * Replaces Grafana variables (`$name`, `${name}`) the way Grafana would
 * before sending the query; an unknown variable throws, so a new variable
 * cannot slip past the tests unexpanded.
 */
export function expandVariables (expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string
    const value = values[name]
    if (value === undefined) throw new Error(`no value for the dashboard variable $${name} in: ${expr}`)
    return value
  })
}

const withoutStrings = (expr: string): string => expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')

/** Label names a query groups by, matches on, or a legend prints. */
export function labelNamesUsed (expr: string, legendFormat = ''): Set<string> {
  const names = new Set<string>()
  const code = withoutStrings(expr)
  for (const m of code.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const name of (m[1] as string).split(',')) if (name.trim() !== '') names.add(name.trim())
  }
  for (const block of code.matchAll(/\{([^}]*)\}/g)) {
    for (const m of (block[1] as string).matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) names.add(m[1] as string)
  }
  for (const m of legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) names.add(m[1] as string)
  return names
}

/** Metric names (`webhooks_…`) a query reads. */
export function metricNamesUsed (expr: string): Set<string> {
  return new Set([...withoutStrings(expr).matchAll(/\bwebhooks_\w+/g)].map((m) => m[0]))
}

/** The range selectors (`[...]`) of a query, subqueries included. */
export function rangeSelectors (expr: string): string[] {
  return [...withoutStrings(expr).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] as string)
}
