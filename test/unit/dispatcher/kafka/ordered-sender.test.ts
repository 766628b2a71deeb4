import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { OrderedSender } from '../../../../services/dispatcher/src/kafka/ordered-sender.js'

const record = (n: number): { key: Buffer, value: Buffer, headers: Record<string, string> } => ({ key: Buffer.from(`k${n}`), value: Buffer.from(`v${n}`), headers: {} })

/** A producer that appends to an in-memory partition; `failures` sends fail first. */
function fakeProducer (failures = 0) {
  const log: string[] = []
  const sends: ProducerRecord[] = []
  let left = failures
  let release: (() => void) | undefined
  const producer = {
    send: async (request: ProducerRecord): Promise<RecordMetadata[]> => {
      sends.push(request)
      if (release === undefined && sends.length === 1) await new Promise<void>((resolve) => { release = resolve })
      if (left-- > 0) throw new Error('NOT_ENOUGH_REPLICAS')
      const baseOffset = log.length
      for (const m of request.messages) log.push(String(m.value))
      return [{ topicName: request.topic, partition: 0, errorCode: 0, baseOffset: String(baseOffset) }]
    }
  }
  return { producer: producer as unknown as Producer, log, sends, releaseFirst: () => release?.() }
}

describe('OrderedSender', () => {
  it('writes in hand-in order, batching what queued behind the send in flight, and resolves each with its offset', async () => {
    const p = fakeProducer()
    const sender = new OrderedSender({ producer: p.producer, topic: 'retry', partition: 4, compression: 4 })
    const first = sender.send(record(0))
    const rest = [1, 2, 3].map((n) => sender.send(record(n)))
    expect(sender.pending).toBe(3)
    p.releaseFirst()
    expect(await Promise.all([first, ...rest])).toEqual([0n, 1n, 2n, 3n])
    expect(p.log).toEqual(['v0', 'v1', 'v2', 'v3'])
    expect(p.sends.map((s) => s.messages.length)).toEqual([1, 3])
    expect(p.sends.every((s) => s.acks === -1 && s.compression === 4 && s.messages.every((m) => m.partition === 4))).toBe(true)
  })

  it('retries a failed send until it succeeds, keeping the order (nothing is dropped: C1)', async () => {
    const p = fakeProducer(2)
    const errors: number[] = []
    const sender = new OrderedSender({ producer: p.producer, topic: 'dlq', compression: 0, onSendError: (_err, attempt) => errors.push(attempt), retryDelayMs: () => 1 })
    const sent = [0, 1].map((n) => sender.send(record(n)))
    p.releaseFirst()
    expect(await Promise.all(sent)).toEqual([0n, 1n])
    expect(errors).toEqual([1, 2])
    expect(p.log).toEqual(['v0', 'v1'])
  })

  it('refuses new records once closed', async () => {
    const sender = new OrderedSender({ producer: fakeProducer().producer, topic: 'x', compression: 0 })
    sender.close()
    await expect(sender.send(record(0))).rejects.toThrow(/closed/)
  })

  it('release: drops what is not sent yet, lets the send in flight finish, then writes the last record behind it (DESIGN §4a)', async () => {
    const p = fakeProducer()
    const sender = new OrderedSender({ producer: p.producer, topic: 'retry', partition: 1, compression: 0 })
    const inFlight = sender.send(record(0))
    let queuedSettled = false
    void sender.send(record(1)).then(() => { queuedSettled = true }, () => { queuedSettled = true })
    const released = sender.release(record(9), () => true)
    await expect(sender.send(record(2))).rejects.toThrow(/closed/)
    p.releaseFirst()
    expect(await released).toBe(true)
    expect(await inFlight).toBe(0n)
    expect(p.log).toEqual(['v0', 'v9'])
    expect(queuedSettled).toBe(false)
    expect(await sender.release(record(8), () => true)).toBe(false)
  })

  it('holds every send while it may not write (the group lease lapsed), then goes on in order', async () => {
    const p = fakeProducer()
    let mayWrite = false
    const sender = new OrderedSender({ producer: p.producer, topic: 'retry', partition: 1, compression: 0, mayWrite: () => mayWrite })
    const sent = [0, 1].map((n) => sender.send(record(n)))
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(p.sends).toEqual([])
    mayWrite = true
    await new Promise((resolve) => setTimeout(resolve, 150))
    p.releaseFirst()
    expect(await Promise.all(sent)).toEqual([0n, 1n])
    expect(p.log).toEqual(['v0', 'v1'])
  })
})
