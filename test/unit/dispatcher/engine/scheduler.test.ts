import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ReadyItem } from '../../../../services/dispatcher/src/engine/key-queues.js'
import type { DeliveryTask, TaskOutcome } from '../../../../services/dispatcher/src/engine/delivery-task.js'
import { Scheduler, type WorkSource } from '../../../../services/dispatcher/src/engine/scheduler.js'

function task (subscriptionId: string, n: number): DeliveryTask {
  return {
    webhookId: `${subscriptionId}-${n}`, subscriptionId, tenantId: 't', accountId: `acc-${n}`, eventType: 'x', occurredAt: 0, body: '{}',
    source: { topic: 's', partition: 0, offset: BigInt(n) }, record: { key: null, value: null, headers: {}, timestamp: 0 }, attempts: 0
  }
}

/** A lane with a fixed list of ready tasks (one per key), recording what finished. */
function lane (id: string, tasks: DeliveryTask[]): WorkSource & { finished: Array<[string, TaskOutcome]>, left: () => number } {
  const waiting = [...tasks]
  const finished: Array<[string, TaskOutcome]> = []
  return {
    id,
    finished,
    left: () => waiting.length,
    takeReady (limit, canStart) {
      const taken: Array<ReadyItem<DeliveryTask>> = []
      for (let i = 0; i < waiting.length && taken.length < limit;) {
        const t = waiting[i] as DeliveryTask
        if (canStart(t)) {
          waiting.splice(i, 1)
          taken.push({ key: t.webhookId, item: t })
        } else {
          i++
        }
      }
      return taken
    },
    finish (key, _task, outcome) { finished.push([key, outcome]) }
  }
}

/** An executor whose attempts finish only when the test says so. */
function controlledExecutor () {
  const running = new Map<string, (outcome: TaskOutcome) => void>()
  const started: string[] = []
  return {
    running,
    started,
    execute: (t: DeliveryTask) => new Promise<TaskOutcome>((resolve) => { started.push(t.webhookId); running.set(t.webhookId, resolve) }),
    complete: async (id: string, outcome: TaskOutcome = { kind: 'delivered' }) => {
      running.get(id)?.(outcome)
      running.delete(id)
      await new Promise((resolve) => setImmediate(resolve))
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

describe('Scheduler', () => {
  afterEach(() => { vi.useRealTimers() })

  it('keeps at most MAX_IN_FLIGHT running overall and the endpoint cap per subscription', () => {
    const ex = controlledExecutor()
    const s = new Scheduler({ maxInFlight: 5, endpointCap: (id) => (id === 'slow' ? 2 : 10), execute: ex.execute })
    s.add(lane('a', [...Array.from({ length: 6 }, (_, i) => task('slow', i)), ...Array.from({ length: 6 }, (_, i) => task('fast', i))]))
    s.pump()
    expect(s.inFlight).toBe(5)
    expect(ex.started.filter((id) => id.startsWith('slow'))).toHaveLength(2)
    expect(ex.started.filter((id) => id.startsWith('fast'))).toHaveLength(3)
  })

  it('visits lanes round-robin, so a busy lane cannot starve another', () => {
    const ex = controlledExecutor()
    const s = new Scheduler({ maxInFlight: 100, endpointCap: () => 1000, execute: ex.execute })
    s.add(lane('busy', Array.from({ length: 500 }, (_, i) => task('a', i))))
    s.add(lane('quiet', [task('b', 0), task('b', 1)]))
    s.pump()
    expect(ex.started).toContain('b-0')
    expect(ex.started).toContain('b-1')
    expect(s.inFlight).toBe(100)
  })

  it('reports each outcome to the lane, frees the slot and starts the next', async () => {
    const ex = controlledExecutor()
    const s = new Scheduler({ maxInFlight: 1, endpointCap: () => 1, execute: ex.execute })
    const a = lane('a', [task('x', 0), task('x', 1)])
    s.add(a)
    s.pump()
    expect(ex.started).toEqual(['x-0'])
    await ex.complete('x-0', { kind: 'failed', endpointGone: false })
    expect(a.finished).toEqual([['x-0', { kind: 'failed', endpointGone: false }]])
    expect(ex.started).toEqual(['x-0', 'x-1'])
    expect(s.inFlight).toBe(1)
  })

  it('treats an executor that rejects as a failed attempt, so the task parks rather than vanishing', async () => {
    const errors: unknown[] = []
    const s = new Scheduler({ maxInFlight: 1, endpointCap: () => 1, execute: async () => { throw new Error('bug') }, onError: (err) => errors.push(err) })
    const a = lane('a', [task('x', 0)])
    s.add(a)
    s.pump()
    await new Promise((resolve) => setImmediate(resolve))
    expect(a.finished).toEqual([['x-0', { kind: 'failed', endpointGone: false }]])
    expect(errors).toHaveLength(1)
    expect(s.inFlight).toBe(0)
  })

  it('starts nothing once stopped; running attempts still report', async () => {
    const ex = controlledExecutor()
    const s = new Scheduler({ maxInFlight: 1, endpointCap: () => 1, execute: ex.execute })
    const a = lane('a', [task('x', 0), task('x', 1)])
    s.add(a)
    s.pump()
    s.stop()
    await ex.complete('x-0')
    expect(a.finished).toHaveLength(1)
    expect(ex.started).toEqual(['x-0'])
    expect(a.left()).toBe(1)
  })

  it('holds a rate-limited endpoint to its rate, starting the rest when a token is due', async () => {
    vi.useFakeTimers()
    let now = 0
    const ex = controlledExecutor()
    const s = new Scheduler({ maxInFlight: 100, endpointCap: () => 100, execute: ex.execute, rateLimit: (id) => (id === 'limited' ? 2 : undefined), now: () => now })
    s.add(lane('a', [...Array.from({ length: 6 }, (_, i) => task('limited', i)), task('free', 0)]))
    s.pump()
    const limitedStarted = (): number => ex.started.filter((id) => id.startsWith('limited')).length
    const firstBurst = limitedStarted()
    expect(firstBurst).toBeGreaterThanOrEqual(1)
    expect(firstBurst).toBeLessThanOrEqual(2)
    expect(ex.started).toContain('free-0')
    now += 1000
    await vi.advanceTimersByTimeAsync(1000)
    expect(limitedStarted()).toBeGreaterThan(firstBurst)
    expect(limitedStarted()).toBeLessThanOrEqual(firstBurst + 2)
  })
})

describe('Scheduler timers (issue 13: a tenant\'s tiny rate limit)', () => {
  it('arms its rate timer within what a Node timer holds: no TimeoutOverflowWarning, no 1 ms refiring', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => { warnings.push(w.name) }
    process.on('warning', onWarning)
    try {
      const started: string[] = []
      const lane = {
        id: 'lane',
        takeReady: (limit: number, canStart: (t: DeliveryTask) => boolean) => {
          const t = { subscriptionId: 'slow', webhookId: `w${started.length}` } as unknown as DeliveryTask
          return limit > 0 && canStart(t) ? [{ key: `k${started.length}`, item: t }] : []
        },
        finish: () => {}
      }
      const scheduler = new Scheduler({
        maxInFlight: 10,
        endpointCap: () => 10,
        rateLimit: () => 1e-9,
        execute: async (t) => { started.push(t.webhookId); return { kind: 'delivered' } }
      })
      scheduler.add(lane)
      await new Promise((resolve) => setTimeout(resolve, 50))
      scheduler.stop()
      expect(started.length).toBeLessThanOrEqual(1)
      expect(warnings.filter((w) => w === 'TimeoutOverflowWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
