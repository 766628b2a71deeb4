import { logLevel as kafkaLogLevel, type logCreator } from 'kafkajs'
import type { Logger } from 'pino'

/** The pino level a kafkajs log entry is written at. */
export type KafkajsLineLevel = 'error' | 'warn' | 'info'

/**
 * Broker answers kafkajs logs at error level from its connection ("Response
 * Metadata(…)") and then handles itself, by retrying or by handing the error
 * to its caller, which reports it if it matters. On a first start, and after
 * every topic creation or coordinator move, they are expected: a topic's
 * metadata not yet on the answering broker, a leader or a group coordinator
 * not elected yet, a topic that another instance created a moment before
 * ("Topic creation errors" wraps TOPIC_ALREADY_EXISTS, which kafkajs's
 * createTopics turns into `false`; any other creation error reaches our own
 * start-up code, which fails naming it).
 */
const TRANSIENT_BROKER_ANSWERS: ReadonlySet<string> = new Set([
  'This server does not host this topic-partition',
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  'The group coordinator is not available',
  'The coordinator is loading and hence can\'t process requests for this group',
  'This is not the correct coordinator for this group',
  'The group is rebalancing, so a rejoin is needed',
  'The leader epoch in the request is older than the epoch on the broker',
  'The leader epoch in the request is newer than the epoch on the broker',
  'Topic creation errors'
])

/**
 * Where a kafkajs entry goes: expected transient conditions below warning,
 * so that a healthy start prints no error; everything else as kafkajs rates
 * it (error stays error, the rest is a warning).
 */
export function kafkajsLineLevel (level: number, namespace: string, entry: { message?: unknown, error?: unknown }): KafkajsLineLevel {
  const message = typeof entry.message === 'string' ? entry.message : ''
  const transient = namespace === 'Connection' && message.startsWith('Response ') &&
    typeof entry.error === 'string' && TRANSIENT_BROKER_ANSWERS.has(entry.error)
  // A consumer whose group join ran out of kafkajs's retries on one of the
  // same answers (a fresh broker still loading its group coordinators)
  // restarts itself; the crash line says why, so the restart line follows it.
  const crashed = namespace === 'Consumer' && /^Crash: KafkaJS\w+: /.test(message) && TRANSIENT_BROKER_ANSWERS.has(message.replace(/^Crash: KafkaJS\w+: /, ''))
  const restarting = namespace === 'Consumer' && message.startsWith('Restarting the consumer in ')
  // A membership change (another instance joining or leaving, a restart) makes every member rejoin.
  const rejoin = namespace === 'Runner' && message === 'The group is rebalancing, re-joining'
  if (transient || crashed || restarting || rejoin) return 'info'
  return level <= kafkaLogLevel.ERROR ? 'error' : 'warn'
}

/** Whether `err` (or its cause) is one of the expected transient broker answers above. */
export function isTransientKafkaError (err: unknown): boolean {
  for (let e = err as { message?: unknown, cause?: unknown } | undefined, depth = 0; e !== undefined && e !== null && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.message === 'string' && TRANSIENT_BROKER_ANSWERS.has(e.message)) return true
  }
  return false
}

/** kafkajs's logs into pino, one child logger per kafkajs namespace (`module: kafkajs:<namespace>`). */
export function kafkajsLogCreator (rootLog: Logger): logCreator {
  return () => ({ namespace, level, log: entry }) => {
    const { message, ...rest } = entry
    rootLog.child({ module: `kafkajs:${namespace}` })[kafkajsLineLevel(level, namespace, entry)](rest, message)
  }
}
