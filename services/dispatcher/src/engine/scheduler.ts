import type { ReadyItem } from './key-queues.js'
import { timerDelay } from '../timer-delay.js'
import { RateLimiter } from './rate-limiter.js'
import type { DeliveryTask, TaskOutcome } from './delivery-task.js'

/** A lane the scheduler takes work from: a source partition or a retry partition. */
export interface WorkSource {
  readonly id: string
  /** Heads of ready keys; `canStart` admits a task against the endpoint cap. */
  takeReady (limit: number, canStart: (task: DeliveryTask) => boolean): Array<ReadyItem<DeliveryTask>>
  /** Called once per task handed out, when its attempt is over. */
  finish (key: string, task: DeliveryTask, outcome: TaskOutcome): void
}

/** Makes one attempt of a task; never rejects. */
export type TaskExecutor = (task: DeliveryTask) => Promise<TaskOutcome>

export interface SchedulerOptions {
  maxInFlight: number
  /** The in-flight cap of one subscription's endpoint. */
  endpointCap: (subscriptionId: string) => number
  execute: TaskExecutor
  /** Deliveries per second allowed to a subscription's endpoint; undefined = unlimited. */
  rateLimit?: (subscriptionId: string) => number | undefined
  now?: () => number
  onError?: (err: unknown, task: DeliveryTask) => void
  /** Whether attempts may start now (the group lease holds); checked on every pump. */
  mayStart?: () => boolean
  /**
   * The endpoints' token buckets, shared with whatever else delivers to them
   * in this process (replays): one rate limit per endpoint, not one per path.
   * @defaultValue buckets of its own
   */
  rateLimiter?: RateLimiter
}

/**
 * Starts deliveries from all lanes, keeping at most `maxInFlight` running
 * overall and at most the endpoint cap per subscription (DESIGN §4). Lanes
 * decide order (one head per key); the scheduler only decides how many run,
 * visiting lanes round-robin so one busy partition cannot starve the others.
 */
export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #sources = new Map<string, WorkSource>()
  readonly #perEndpoint = new Map<string, number>()
  readonly #limiter: RateLimiter
  #rateTimer: NodeJS.Timeout | undefined
  #order: WorkSource[] = []
  #cursor = 0
  #inFlight = 0
  #pumpQueued = false
  #stopped = false

  constructor (options: SchedulerOptions) {
    this.#options = options
    this.#limiter = options.rateLimiter ?? new RateLimiter()
  }

  get inFlight (): number {
    return this.#inFlight
  }

  add (source: WorkSource): void {
    this.#sources.set(source.id, source)
    this.#order = [...this.#sources.values()]
    this.requestPump()
  }

  remove (sourceId: string): void {
    if (!this.#sources.delete(sourceId)) return
    this.#order = [...this.#sources.values()]
  }

  /** Stops starting attempts; running ones finish and report as usual. */
  stop (): void {
    this.#stopped = true
  }

  /** Asks for a pump soon; many calls in one tick make one pump. */
  requestPump (): void {
    if (this.#pumpQueued || this.#stopped) return
    this.#pumpQueued = true
    setImmediate(() => {
      this.#pumpQueued = false
      this.pump()
    })
  }

  // A rate-limited endpoint gets its next token later: pump again then.
  #pumpAt (at: number): void {
    if (this.#rateTimer !== undefined) return
    const delay = Math.max(1, timerDelay(at - (this.#options.now ?? Date.now)()))
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = undefined
      this.requestPump()
    }, delay)
    this.#rateTimer.unref()
  }

  /** Starts as many attempts as the caps allow. */
  pump (): void {
    if (this.#stopped || this.#options.mayStart?.() === false) return
    const sources = this.#order
    let idleVisits = 0
    while (this.#inFlight < this.#options.maxInFlight && sources.length > 0 && idleVisits < sources.length) {
      const source = sources[this.#cursor % sources.length] as WorkSource
      this.#cursor = (this.#cursor + 1) % sources.length
      // A small slice per lane per visit keeps the round-robin fair.
      const limit = Math.min(this.#options.maxInFlight - this.#inFlight, 64)
      const taken = source.takeReady(limit, (task) => this.#admit(task))
      if (taken.length === 0) {
        idleVisits++
        continue
      }
      idleVisits = 0
      for (const { key, item } of taken) this.#start(source, key, item)
    }
  }

  #admit (task: DeliveryTask): boolean {
    const running = this.#perEndpoint.get(task.subscriptionId) ?? 0
    if (running >= this.#options.endpointCap(task.subscriptionId)) return false
    const rate = this.#options.rateLimit?.(task.subscriptionId)
    if (rate !== undefined) {
      const taken = this.#limiter.tryTake(task.subscriptionId, rate, (this.#options.now ?? Date.now)())
      if (!taken.ok) {
        this.#pumpAt(taken.retryAt)
        return false
      }
    }
    this.#perEndpoint.set(task.subscriptionId, running + 1)
    this.#inFlight++
    return true
  }

  #start (source: WorkSource, key: string, task: DeliveryTask): void {
    this.#options.execute(task).then(
      (outcome) => this.#finish(source, key, task, outcome),
      (err: unknown) => {
        // The executor never rejects by contract; if it does, treat the
        // attempt as failed so the task parks rather than vanishing.
        this.#options.onError?.(err, task)
        this.#finish(source, key, task, { kind: 'failed', endpointGone: false })
      }
    )
  }

  #finish (source: WorkSource, key: string, task: DeliveryTask, outcome: TaskOutcome): void {
    this.#inFlight--
    const running = (this.#perEndpoint.get(task.subscriptionId) ?? 1) - 1
    if (running === 0) this.#perEndpoint.delete(task.subscriptionId)
    else this.#perEndpoint.set(task.subscriptionId, running)
    try {
      source.finish(key, task, outcome)
    } catch (err) {
      this.#options.onError?.(err, task)
    }
    this.requestPump()
  }
}
