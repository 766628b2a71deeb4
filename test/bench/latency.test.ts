import { AssignerProtocol } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { partitionsPerMember } from './group-members.js'
import { pacedLatency, pacedRateFor, summarizeLatency } from './latency.js'
import { sizing } from './sizing.js'

describe('latency phase arithmetic', () => {
  it('uses a fixed rate as given, and a derived one as a capped share of the throughput', () => {
    expect(pacedRateFor({ fixed: 1000 }, 300)).toBe(1000)
    expect(pacedRateFor({ share: 0.5, max: 500 }, 4570)).toBe(500)
    expect(pacedRateFor({ share: 0.5, max: 500 }, 300)).toBe(150)
    expect(pacedRateFor({ share: 0.5, max: 500 }, Number.NaN)).toBe(1)
  })

  it('times each event to its first receipt, from the send call and from the acknowledgement', () => {
    const events = [
      { eventId: 'a', sentAt: 1000, ackedAt: 1004 },
      { eventId: 'b', sentAt: 1000, ackedAt: 1010 },
      // Fetched before the producer saw its acknowledgement: 0 ms after the ack.
      { eventId: 'c', sentAt: 1000, ackedAt: 1030 },
      { eventId: 'never', sentAt: 1000, ackedAt: 1002 }
    ]
    const receipts = { ids: ['b', 'a', 'a', 'c'], at: [1012, 1020, 1500, 1025] }
    const latency = pacedLatency(events, receipts)
    expect(latency.fromAck).toEqual({ p50: 2, p99: 16, max: 16 })
    expect(latency.fromSend).toEqual({ p50: 20, p99: 25, max: 25 })
    expect(latency.sendToAck).toEqual({ p50: 10, p99: 30, max: 30 })
    expect(summarizeLatency([]).max).toBeNaN()
  })
})

describe('group settling', () => {
  const member = (assignment: Record<string, number[]>): { memberAssignment: Buffer } => ({
    memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) })
  })

  it('counts the partitions of the topic each member holds, only once the group is Stable', () => {
    const members = [member({ t: [0, 1, 2], 't.retry': [0, 1, 2] }), member({ t: [3], 't.retry': [3] }), member({ other: [0] })]
    const group = (state: 'Stable' | 'PreparingRebalance'): Parameters<typeof partitionsPerMember>[0] =>
      ({ state, members: members.map((m, i) => ({ memberId: `m${i}`, clientId: 'c', clientHost: 'h', memberMetadata: Buffer.alloc(0), ...m })) })
    expect(partitionsPerMember(group('Stable'), 't')).toEqual([3, 1, 0])
    expect(partitionsPerMember(group('PreparingRebalance'), 't')).toBeUndefined()
  })
})

describe('sizing arithmetic', () => {
  it('turns µs per delivery into cores and one instance\'s rate into instances', () => {
    const rows = sizing({ rate: 100_000, processUs: 108, deliveryThreadUs: 80, instanceRate: 600, instanceCores: 0.3, maxInFlight: 64, receiverDelayMs: 100, scaleRatio: 1.9, w2Rate: 4570, w2MaxInFlight: 512 })
    const value = (start: string): string | undefined => rows.find((r) => r.quantity.startsWith(start))?.value
    expect(value('Dispatcher CPU')).toBe('10.8 cores')
    expect(value('Of it, delivery threads')).toBe('8.0 cores')
    expect(value('Most deliveries/s')).toBe('12,500/s')
    expect(value('Instances at 100,000/s if CPU-bound')).toBe('8')
    expect(value('Requests in flight')).toBe('10,000')
    expect(value('One instance on W2')).toBe('600/s (94% of the bound)')
    expect(value('CPU per delivery of that')).toBe('500 µs')
    expect(value('Dispatcher CPU at 100,000 deliveries/s at that cost')).toBe('50.0 cores')
    expect(value('Scale-out efficiency')).toBe('95%')
    // 100,000 ÷ (600 × 0.95) = 175.4 → 176; 100,000 ÷ (4,570 × 0.95) = 23.03 → 24.
    expect(value('Instances at 100,000/s on W2, MAX_IN_FLIGHT=64')).toBe('176')
    expect(value('Instances at 100,000/s on W2, MAX_IN_FLIGHT=512')).toBe('24')
  })
})
