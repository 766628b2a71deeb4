// Pure arithmetic of the latency phase: its produce rate, and where the time
// between a produce call and the receipt at the endpoint went.
import type { Receipts } from './receiver.js'
import { percentile } from './stats.js'

export interface Latency {
  p50: number
  p99: number
  max: number
}

/** Nearest-rank p50 and p99, and the maximum; NaN for no values. */
export function summarizeLatency (values: readonly number[]): Latency {
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b), -Infinity)
  }
}

/** How the latency phase picks its rate: fixed, or a share of the backlog throughput up to a cap. */
export type PacedRate = { fixed: number } | { share: number, max: number }

export function pacedRateFor (rate: PacedRate, backlogPerSecond: number): number {
  if ('fixed' in rate) return rate.fixed
  const derived = Number.isFinite(backlogPerSecond) ? Math.floor(backlogPerSecond * rate.share) : 1
  return Math.max(1, Math.min(rate.max, derived))
}

export interface TimedEvent {
  eventId: string
  /** Epoch ms: the producer's send call, and its acknowledgement. */
  sentAt: number
  ackedAt: number
}

export interface PacedLatency {
  /** Produce acknowledgement → receipt at the endpoint: the dispatcher's share. */
  fromAck: Latency
  /** Producer's send call → receipt. */
  fromSend: Latency
  /** Send call → acknowledgement: the producer's and the broker's share. */
  sendToAck: Latency
}

/** Latency of each event to its first receipt; events never received are left out (the oracle counts them). */
export function pacedLatency (events: readonly TimedEvent[], receipts: Receipts): PacedLatency {
  const first = new Map<string, number>()
  receipts.ids.forEach((id, i) => {
    if (!first.has(id)) first.set(id, receipts.at[i] as number)
  })
  const fromAck: number[] = []
  const fromSend: number[] = []
  const sendToAck: number[] = []
  for (const e of events) {
    const at = first.get(e.eventId)
    if (at === undefined) continue
    // A record can be fetched before its acknowledgement reaches the
    // producer; such a delivery counts as 0 ms after the ack.
    fromAck.push(Math.max(0, at - e.ackedAt))
    fromSend.push(at - e.sentAt)
    sendToAck.push(e.ackedAt - e.sentAt)
  }
  return { fromAck: summarizeLatency(fromAck), fromSend: summarizeLatency(fromSend), sendToAck: summarizeLatency(sendToAck) }
}
