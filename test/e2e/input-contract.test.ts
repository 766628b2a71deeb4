import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { familyType, frameWire, type TransactionEvent } from '../../services/events/src/index.js'
import { readTopic } from '../support/dead-letters.js'
import { createScenario, type Scenario } from '../support/scenario.js'
import { waitUntil } from '../support/wait.js'

// The input contract (issue 12): a tombstone and a negative amount are
// dead-lettered with their own reason and a detail in words, the warning
// names where the record sat, and a legal Java long beyond 2^53 in
// accountSequence is delivered with its exact digits.
describe('input contract', () => {
  let scenario: Scenario | undefined
  afterEach(async () => {
    await scenario?.close()
    scenario = undefined
  })

  it('dead-letters a tombstone (tombstone) and a negative amount (negative-amount) with details, and delivers accountSequence 2^53 + 1 exactly', async () => {
    scenario = await createScenario([{ id: 'sub', tenantId: 'tenant-000', eventTypes: ['*'] }], { partitions: 1 })
    const s = scenario
    const [valid] = await s.feed.publishTransactions(s.source, { count: 1, accounts: 1 })
    const good = (await readTopic(s.source))[0]?.value as Buffer
    const schemaId = good.readInt32BE(1)
    // Bodies any Avro writer can produce (a Java producer, say): the family
    // schema under the id the feed registered, no producer-library validation.
    const transaction = (overrides: Partial<TransactionEvent>): Buffer => frameWire(schemaId, familyType('transactions').toBuffer({
      eventId: randomUUID(),
      eventType: 'transaction.posted',
      occurredAt: new Date(),
      tenantId: 'tenant-000',
      accountId: 'acc-java',
      accountSequence: 1,
      transactionId: 'txn-1',
      amount: '12.5000',
      currency: 'EUR',
      direction: 'DEBIT',
      counterparty: null,
      merchant: null,
      balanceAfter: null,
      description: null,
      declineReason: null,
      reversedTransactionId: null,
      ...overrides
    }))
    const bigId = randomUUID()
    const poison = [
      { key: 'acc-000000', value: null },
      { key: 'acc-java', value: transaction({ amount: '-12.5000', accountSequence: 2 }) }
    ]
    await s.feed.publishRaw(s.source, [...poison, { key: 'acc-java', value: transaction({ eventId: bigId, accountSequence: 2n ** 53n + 1n }) }])
    const after = await s.feed.publishTransactions(s.source, { count: 10, accounts: 1 })
    const dispatcher = await s.start()

    const receiver = s.receivers.get('sub')
    await waitUntil('records around the bad ones delivered', () => s.check([valid!, ...after]).missing.length === 0 &&
      receiver?.accepted().some((r) => r.webhookId === bigId) === true, { timeoutMs: 60_000 })
    const big = receiver?.accepted().find((r) => r.webhookId === bigId)
    // JSON.parse would round it to ...992; the bytes on the wire carry every digit.
    expect(big?.raw).toContain('"accountSequence":9007199254740993')

    const letters = await waitUntil('two dead letters', async () => {
      const all = await readTopic(s.deadLetter).catch(() => [])
      return all.length >= 2 ? all : undefined
    }, { timeoutMs: 30_000 })
    // Keyed by account, they may sit on different dead-letter partitions.
    letters.sort((a, b) => Number(a.headers['whd-source-offset']) - Number(b.headers['whd-source-offset']))
    expect(letters.map((l) => l.headers['whd-dead-letter-reason'])).toEqual(['tombstone', 'negative-amount'])
    expect(letters.map((l) => l.headers['whd-dead-letter-detail'])).toEqual([
      'record has a null value (a tombstone), not an event',
      `record of schema ${schemaId}: amount -12.5000 is negative; amounts are magnitudes, direction gives the sign`
    ])
    expect(letters.map((l) => l.value)).toEqual(poison.map((p) => p.value))

    // The warning says where each record sat, so an operator can find it.
    const warnings = dispatcher.output().split('\n').filter((line) => line.includes('undecodable record')).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(warnings.map((w) => ({ topic: w.topic, partition: w.partition, offset: w.offset, reason: w.reason }))).toEqual([
      { topic: s.source, partition: 0, offset: '1', reason: 'tombstone' },
      { topic: s.source, partition: 0, offset: '2', reason: 'negative-amount' }
    ])
  }, 120_000)
})
