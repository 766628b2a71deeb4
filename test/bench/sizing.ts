// The arithmetic a "sizing for N events/s" section needs, from one run's
// figures: CPU per delivery → cores, one instance's latency-bound rate →
// instances. Pure; the report renders the rows.

export interface SizingInputs {
  /** Target rate, events/s (one subscription matching each: deliveries/s). */
  rate: number
  /** W1: dispatcher process CPU per delivery, and of it the delivery thread's, µs. */
  processUs: number
  deliveryThreadUs: number
  /** W2 scale-out: one instance's rate at `maxInFlight`, the receiver's latency, and 2 ÷ 1 instances. */
  instanceRate: number
  /** Cores that instance kept busy while delivering. */
  instanceCores: number
  maxInFlight: number
  receiverDelayMs: number
  scaleRatio: number
  /** W2 backlog at the bench's main MAX_IN_FLIGHT (one instance). */
  w2Rate: number
  w2MaxInFlight: number
}

export interface SizingRow {
  quantity: string
  arithmetic: string
  value: string
}

const n = (value: number, digits = 0): string => Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'

export function sizing (s: SizingInputs): SizingRow[] {
  const rate = n(s.rate)
  const threadRate = 1e6 / s.deliveryThreadUs
  const concurrency = s.rate * (s.receiverDelayMs / 1000)
  const bound = s.maxInFlight / (s.receiverDelayMs / 1000)
  const instanceUs = (s.instanceCores / s.instanceRate) * 1e6
  return [
    { quantity: `Dispatcher CPU at ${rate} deliveries/s (W1 cost)`, arithmetic: `${rate} × ${n(s.processUs)} µs`, value: `${n((s.rate * s.processUs) / 1e6, 1)} cores` },
    { quantity: 'Of it, delivery threads (one per instance)', arithmetic: `${rate} × ${n(s.deliveryThreadUs)} µs`, value: `${n((s.rate * s.deliveryThreadUs) / 1e6, 1)} cores` },
    { quantity: 'Most deliveries/s one instance\'s delivery thread can run', arithmetic: `1 s ÷ ${n(s.deliveryThreadUs)} µs`, value: `${n(threadRate)}/s` },
    { quantity: `Instances at ${rate}/s if CPU-bound (delivery thread saturated)`, arithmetic: `${rate} ÷ ${n(threadRate)}`, value: n(Math.ceil(s.rate / threadRate)) },
    { quantity: `Requests in flight at ${rate}/s to ${s.receiverDelayMs} ms endpoints (Little's law)`, arithmetic: `${rate} × ${s.receiverDelayMs / 1000} s`, value: n(concurrency) },
    { quantity: `One instance on W2 at MAX_IN_FLIGHT=${s.maxInFlight}`, arithmetic: `measured (bound ${s.maxInFlight} ÷ ${s.receiverDelayMs / 1000} s = ${n(bound)}/s)`, value: `${n(s.instanceRate)}/s (${n((s.instanceRate / bound) * 100)}% of the bound)` },
    { quantity: 'CPU per delivery of that latency-bound instance (its settings above)', arithmetic: `${n(s.instanceCores, 2)} cores ÷ ${n(s.instanceRate)}/s`, value: `${n(instanceUs)} µs` },
    { quantity: `Dispatcher CPU at ${rate} deliveries/s at that cost`, arithmetic: `${rate} × ${n(instanceUs)} µs`, value: `${n((s.rate * instanceUs) / 1e6, 1)} cores` },
    { quantity: 'Scale-out efficiency, 2 instances', arithmetic: `${n(s.scaleRatio, 2)}× ÷ 2`, value: `${n((s.scaleRatio / 2) * 100)}%` },
    { quantity: `Instances at ${rate}/s on W2, MAX_IN_FLIGHT=${s.maxInFlight}`, arithmetic: `${rate} ÷ (${n(s.instanceRate)}/s × ${n(s.scaleRatio / 2, 2)})`, value: n(Math.ceil(s.rate / (s.instanceRate * (s.scaleRatio / 2)))) },
    { quantity: `Instances at ${rate}/s on W2, MAX_IN_FLIGHT=${s.w2MaxInFlight}`, arithmetic: `${rate} ÷ (${n(s.w2Rate)}/s × ${n(s.scaleRatio / 2, 2)})`, value: n(Math.ceil(s.rate / (s.w2Rate * (s.scaleRatio / 2)))) }
  ]
}
