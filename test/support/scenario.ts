import { randomUUID } from 'node:crypto'
import { generateSecret } from '../../services/dispatcher/src/delivery/sign.js'
import { startDispatcher, writeSubscriptionsFile, type DispatcherProcess, type DispatcherSubscription } from './dispatcher-process.js'
import { createEventFeed, type EventFeed } from './event-feed.js'
import { createTestTopics, uniqueTopic } from './kafka.js'
import { checkDeliveries, type OracleReport, type ProducedEvent } from './oracle.js'
import { startTestReceiver, type Behaviour, type TestReceiver } from './webhook-receiver.js'
import { eventTypeMatches } from '../../services/dispatcher/src/subscriptions/match.js'

export interface ScenarioSubscription {
  id: string
  tenantId: string
  eventTypes: string[]
  behaviour?: Behaviour
  maxInFlight?: number
  rateLimitPerSecond?: number
}

/**
 * One end-to-end scenario: its own source topic, dead-letter topic and
 * consumer group, receivers per subscription, and dispatcher processes
 * started on demand. `check` runs the oracle over what the receivers accepted.
 */
export interface Scenario {
  source: string
  deadLetter: string
  group: string
  feed: EventFeed
  receivers: Map<string, TestReceiver>
  subscriptionsFile: string
  /** The retry topic the dispatcher makes for `source` (RETRY_TOPIC_SUFFIX's default: per group). */
  retry: string
  dispatchers: DispatcherProcess[]
  start: (env?: Record<string, string>, options?: { waitReady?: boolean }) => Promise<DispatcherProcess>
  check: (produced: readonly ProducedEvent[]) => OracleReport
  close: () => Promise<void>
}

export async function createScenario (
  subscriptions: ScenarioSubscription[],
  { partitions = 4, env: baseEnv = {} }: { partitions?: number, env?: Record<string, string> } = {}
): Promise<Scenario> {
  const source = uniqueTopic('e2e-src')
  const deadLetter = uniqueTopic('e2e-dlq')
  const group = `e2e-group-${randomUUID()}`
  const secret = generateSecret()
  const { cleanup } = await createTestTopics([{ topic: source, numPartitions: partitions }])
  const feed = await createEventFeed()
  const receivers = new Map<string, TestReceiver>()
  const dispatcherSubs: DispatcherSubscription[] = []
  for (const sub of subscriptions) {
    const receiver = await startTestReceiver(secret, sub.behaviour)
    receivers.set(sub.id, receiver)
    dispatcherSubs.push({ id: sub.id, tenantId: sub.tenantId, url: receiver.url, eventTypes: sub.eventTypes, secrets: [secret], ...(sub.maxInFlight === undefined ? {} : { maxInFlight: sub.maxInFlight }), ...(sub.rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond: sub.rateLimitPerSecond }) })
  }
  const subscriptionsFile = await writeSubscriptionsFile(dispatcherSubs)
  const scenario: Scenario = {
    source,
    deadLetter,
    group,
    retry: `${source}.retry.${group}`,
    feed,
    receivers,
    subscriptionsFile,
    dispatchers: [],
    start: async (env = {}, options = {}) => {
      const proc = await startDispatcher({
        SOURCE_TOPICS: source,
        DEAD_LETTER_TOPIC: deadLetter,
        KAFKA_GROUP_ID: group,
        SUBSCRIPTIONS_FILE: subscriptionsFile,
        ...baseEnv,
        ...env
      }, options)
      scenario.dispatchers.push(proc)
      return proc
    },
    check: (produced) => checkDeliveries(produced, subscriptions.map((s) => ({
      id: s.id,
      tenantId: s.tenantId,
      matches: (type: string) => s.eventTypes.some((f) => eventTypeMatches(f, type)),
      accepted: (receivers.get(s.id) as TestReceiver).accepted()
    }))),
    close: async () => {
      for (const d of scenario.dispatchers) d.kill('SIGKILL')
      await Promise.all(scenario.dispatchers.map((d) => d.exited))
      await Promise.all([...receivers.values()].map((r) => r.close()))
      await feed.close()
      await cleanup()
    }
  }
  return scenario
}

export { seededRandom } from './random.js'
