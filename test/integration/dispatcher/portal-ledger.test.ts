// The portal ledger shared by instances through a real Kafka topic: a link
// signs in once even when two instances exchange it at the same moment, and
// a revocation written through one instance holds on the other.
import { afterAll, describe, expect, it } from 'vitest'
import { KafkaPortalLedger } from '../../../services/dispatcher/src/kafka/portal-ledger.js'
import { newSessionId } from '../../../services/dispatcher/src/http/portal/tokens.js'
import { testKafka, uniqueTopic } from '../../support/kafka.js'
import { scaled, waitUntil } from '../../support/wait.js'

const topic = uniqueTopic('portal-ledger')
const ledgers: KafkaPortalLedger[] = []

async function instance (): Promise<KafkaPortalLedger> {
  const ledger = new KafkaPortalLedger({ kafka: await testKafka('portal-ledger'), topic, replicationFactor: 1, timeoutMs: scaled(30_000) })
  ledgers.push(ledger)
  await ledger.start()
  return ledger
}

afterAll(async () => {
  for (const ledger of ledgers) await ledger.close()
  const admin = (await testKafka('portal-ledger-cleanup')).admin()
  await admin.connect()
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.disconnect()
})

describe('KafkaPortalLedger', () => {
  it('lets exactly one of two instances claim a link, however they race; revocations reach every instance, and a new instance reads them', async () => {
    const a = await instance()
    const b = await instance()
    const until = Date.now() + 600_000
    for (let round = 0; round < 5; round++) {
      const id = newSessionId()
      const outcomes = await Promise.all([a.claimLink(id, until), b.claimLink(id, until), a.claimLink(id, until)])
      expect(outcomes.filter(Boolean), `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1)
      expect(await b.claimLink(id, until)).toBe(false)
    }
    const revoked = newSessionId()
    await a.revoke(revoked, until)
    expect(a.isRevoked(revoked)).toBe(true)
    await waitUntil('the revocation to reach the other instance', () => b.isRevoked(revoked))
    const late = await instance()
    expect(late.isRevoked(revoked)).toBe(true)
    expect(late.isRevoked(newSessionId())).toBe(false)
  })

  it('forgets claims and revocations whose time has passed when it reads them', async () => {
    const ledger = await instance()
    const id = newSessionId()
    await ledger.revoke(id, Date.now() - 1)
    expect(ledger.isRevoked(id)).toBe(false)
  })
})
