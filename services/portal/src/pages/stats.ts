// An endpoint's statistics: the API's summary of the last hour and day, and
// a chart of success ratio and median latency over time, bucketed here from
// the latest attempts (the API gives no time series).
import { api, describeFailure } from '../api.js'
import { el } from '../dom.js'
import type { Attempt } from '../types.js'

interface Stats { window: string, attempts: number, delivered: number, successRatio: number | null, latencyMs: { p50: number | null, p95: number | null, p99: number | null } }

const SVG = 'http://www.w3.org/2000/svg'
const svg = (tag: string, attrs: Record<string, string | number>, text?: string): SVGElement => {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}
const pct = (ratio: number | null): string => (ratio === null ? '—' : `${(ratio * 100).toFixed(1)} %`)
const ms = (value: number | null): string => (value === null ? '—' : `${value} ms`)

export async function statsSection (endpointId: string): Promise<HTMLElement> {
  const section = el('section', { 'aria-labelledby': 'stats-heading' }, el('h2', { id: 'stats-heading' }, 'Statistics'))
  try {
    const [hour, day, page] = await Promise.all([
      api<Stats>('GET', `/v1/endpoints/${encodeURIComponent(endpointId)}/stats?window=1h`),
      api<Stats>('GET', `/v1/endpoints/${encodeURIComponent(endpointId)}/stats?window=24h`),
      api<{ items: Attempt[] }>('GET', `/v1/endpoints/${encodeURIComponent(endpointId)}/attempts?limit=200`)
    ])
    section.appendChild(el('table', { class: 'stats' },
      el('caption', {}, 'Delivery attempts'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Window'), el('th', { scope: 'col' }, 'Attempts'), el('th', { scope: 'col' }, 'Success'), el('th', { scope: 'col' }, 'p50'), el('th', { scope: 'col' }, 'p95'), el('th', { scope: 'col' }, 'p99'))),
      el('tbody', {}, ...[hour, day].map((s) => el('tr', {}, el('th', { scope: 'row' }, s.window === '1h' ? 'Last hour' : 'Last day'), el('td', {}, s.attempts), el('td', {}, pct(s.successRatio)), el('td', {}, ms(s.latencyMs.p50)), el('td', {}, ms(s.latencyMs.p95)), el('td', {}, ms(s.latencyMs.p99)))))))
    section.appendChild(chart(page.items.filter((a) => a.kind === 'attempt')))
  } catch (err) {
    section.appendChild(el('p', { class: 'error' }, describeFailure(err)))
  }
  return section
}

interface Bucket { start: number, attempts: number, delivered: number, durations: number[] }

/** Success ratio (bars) and median latency (line) per time bucket of the latest attempts. */
function chart (attempts: Attempt[]): HTMLElement {
  const figure = el('figure', { class: 'chart' })
  if (attempts.length === 0) {
    figure.appendChild(el('figcaption', {}, 'No attempts yet: the chart fills as deliveries are made.'))
    return figure
  }
  const times = attempts.map((a) => Date.parse(a.startedAt))
  const first = Math.min(...times)
  const last = Math.max(...times) + 1
  const count = 12
  const width = Math.max(1, (last - first) / count)
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({ start: first + i * width, attempts: 0, delivered: 0, durations: [] }))
  attempts.forEach((a, i) => {
    const bucket = buckets[Math.min(count - 1, Math.floor(((times[i] ?? first) - first) / width))]
    if (bucket === undefined) return
    bucket.attempts++
    if (a.outcome === 'delivered') bucket.delivered++
    if (a.durationMs !== undefined) bucket.durations.push(a.durationMs)
  })
  const medians = buckets.map((b) => { const d = [...b.durations].sort((x, y) => x - y); return d.length === 0 ? null : d[Math.floor(d.length / 2)] ?? null })
  const maxLatency = Math.max(1, ...medians.map((m) => m ?? 0))
  const W = 600; const H = 200; const pad = 30; const barW = (W - 2 * pad) / count
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc' })
  root.appendChild(svg('title', { id: 'chart-title' }, 'Success ratio and median latency over time'))
  const summary = buckets.map((b, i) => `${new Date(b.start).toLocaleTimeString()}: ${b.attempts} attempts, ${b.attempts === 0 ? 'no' : pct(b.delivered / b.attempts)} success, median ${ms(medians[i] ?? null)}`).filter((_, i) => (buckets[i]?.attempts ?? 0) > 0)
  root.appendChild(svg('desc', { id: 'chart-desc' }, summary.join('; ')))
  root.appendChild(svg('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: 'axis' }))
  const points: string[] = []
  buckets.forEach((b, i) => {
    const x = pad + i * barW
    if (b.attempts > 0) {
      const h = (H - 2 * pad) * (b.delivered / b.attempts)
      root.appendChild(svg('rect', { x: x + 2, y: H - pad - h, width: barW - 4, height: h, class: 'bar' }))
    }
    const m = medians[i]
    if (m !== null && m !== undefined) points.push(`${x + barW / 2},${H - pad - (H - 2 * pad) * (m / maxLatency)}`)
  })
  if (points.length > 0) root.appendChild(svg('polyline', { points: points.join(' '), class: 'latency' }))
  root.appendChild(svg('text', { x: pad, y: 16, class: 'label' }, `bars: success ratio (0–100 %) · line: median latency (0–${maxLatency} ms) · latest ${attempts.length} attempts`))
  figure.appendChild(root)
  figure.appendChild(el('figcaption', {}, `From ${new Date(first).toLocaleString()} to ${new Date(last).toLocaleString()}.`))
  return figure
}
