import type { ReceivedWebhook } from './webhook-receiver.js'

/** An event the test produced and Kafka acknowledged. */
export interface ProducedEvent {
  eventId: string
  eventType: string
  tenantId: string
  accountId: string
  accountSequence: number
}

export interface OracleSubscription {
  id: string
  tenantId: string
  matches: (eventType: string) => boolean
}

export interface OracleReport {
  expected: number
  missing: ProducedEvent[]
  /** (subscription, account) pairs whose first receipts are out of accountSequence order. */
  orderViolations: Array<{ subscriptionId: string, accountId: string, sequences: number[] }>
  /** Deliveries of events the subscription should not get (wrong tenant or type). */
  unexpected: ReceivedWebhook[]
  duplicates: number
}

/**
 * Produce-consume-validate, as in Kafka's system tests: every acknowledged
 * event that matches a subscription is received (2xx) at least once; per
 * (subscription, account) the first receipts keep accountSequence order;
 * nothing reaches a subscription it does not match; duplicates (same
 * webhook-id accepted again) are counted, not failed (DESIGN C2, C4).
 */
export function checkDeliveries (
  produced: readonly ProducedEvent[],
  subscriptions: ReadonlyArray<OracleSubscription & { accepted: readonly ReceivedWebhook[] }>
): OracleReport {
  const report: OracleReport = { expected: 0, missing: [], orderViolations: [], unexpected: [], duplicates: 0 }
  const byId = new Map(produced.map((e) => [e.eventId, e]))
  for (const sub of subscriptions) {
    const firstReceipt = new Map<string, ReceivedWebhook>()
    for (const r of sub.accepted) {
      if (firstReceipt.has(r.webhookId)) {
        report.duplicates++
        continue
      }
      firstReceipt.set(r.webhookId, r)
      const event = byId.get(r.webhookId)
      if (event === undefined || event.tenantId !== sub.tenantId || !sub.matches(event.eventType)) report.unexpected.push(r)
    }
    for (const event of produced) {
      if (event.tenantId !== sub.tenantId || !sub.matches(event.eventType)) continue
      report.expected++
      if (!firstReceipt.has(event.eventId)) report.missing.push(event)
    }
    const sequencesByAccount = new Map<string, number[]>()
    for (const r of firstReceipt.values()) {
      const list = sequencesByAccount.get(r.accountId) ?? []
      list.push(r.accountSequence)
      sequencesByAccount.set(r.accountId, list)
    }
    for (const [accountId, sequences] of sequencesByAccount) {
      for (let i = 1; i < sequences.length; i++) {
        if ((sequences[i] as number) <= (sequences[i - 1] as number)) {
          report.orderViolations.push({ subscriptionId: sub.id, accountId, sequences })
          break
        }
      }
    }
  }
  return report
}
