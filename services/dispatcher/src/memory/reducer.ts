import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { collectGarbage } from './collect.js'
import { shouldCollect, type LastCollection } from './pressure.js'

/** How often RSS is read (a cheap call). */
const CHECK_EVERY_MS = 2_000

// Delivery attempts and settled deliveries so far: how busy the dispatcher is.
async function workDone (metrics: Metrics): Promise<number> {
  const sum = (values: Array<{ value: number }>): number => values.reduce((total, { value }) => total + value, 0)
  return sum((await metrics.deliveries.get()).values) + sum((await metrics.settled.get()).values)
}

export interface MemoryReducer {
  close: () => void
}

/**
 * Collects garbage in every thread once RSS passes the soft limit
 * (pressure.ts says when). `collectElsewhere` asks the other threads (the
 * history threads) to collect their own heaps and resolves when they have.
 */
export function startMemoryReducer (o: { softLimitBytes: number, collectElsewhere: () => Promise<void>, metrics: Metrics, log: Logger }): MemoryReducer {
  if (o.softLimitBytes <= 0) return { close: () => {} }
  let last: LastCollection | undefined
  let running = false
  let work = { count: 0, at: Date.now() }
  const check = async (): Promise<void> => {
    const rss = process.memoryUsage.rss()
    const now = Date.now()
    const count = await workDone(o.metrics)
    const perSecond = (count - work.count) / Math.max(0.001, (now - work.at) / 1000)
    work = { count, at: now }
    if (running || !shouldCollect(rss, now, o.softLimitBytes, last, perSecond)) return
    running = true
    const started = performance.now()
    try {
      await Promise.all([collectGarbage(), o.collectElsewhere()])
      const rssAfter = process.memoryUsage.rss()
      last = { at: Date.now(), rssAfter }
      o.metrics.memoryCollections.inc()
      o.log.info({ rssBefore: rss, rssAfter, ms: Math.round(performance.now() - started), softLimit: o.softLimitBytes }, 'RSS above MEMORY_SOFT_LIMIT_MIB: garbage collected')
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => {
    check().catch((err: unknown) => { o.log.warn({ err }, 'memory-reducing collection failed') })
  }, CHECK_EVERY_MS)
  timer.unref()
  return { close: () => { clearInterval(timer) } }
}
