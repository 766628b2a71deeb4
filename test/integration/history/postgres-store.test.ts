// The history store contract on a real PostgreSQL server (make test starts
// one from Debian's package: deploy/local/postgres.sh), each case on a
// database of its own; plus what only a shared server shows: instances
// opening one store at once agree on its schema and id.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { openPostgresDriver } from '../../../services/dispatcher/src/history/postgres-driver.js'
import { openSqlHistoryStore } from '../../../services/dispatcher/src/history/sql-store.js'
import { attempt, historyMigrationContract, historyStoreContract } from '../../support/history-store-contract.js'

const serverUrl = process.env.HISTORY_POSTGRES_URL
if (serverUrl === undefined) throw new Error('HISTORY_POSTGRES_URL is not set: run through make test, or start deploy/local/postgres.sh up and export its url')
const created: string[] = []

async function freshDatabase (): Promise<string> {
  const name = `whd_test_${randomUUID().replaceAll('-', '')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  created.push(name)
  const url = new URL(serverUrl as string)
  url.pathname = `/${name}`
  return url.toString()
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
})

historyStoreContract('PostgreSQL', async () => await openSqlHistoryStore(openPostgresDriver(await freshDatabase())))

describe('PostgreSQL history store schema', () => {
  historyMigrationContract('PostgreSQL', async () => openPostgresDriver(await freshDatabase()))
})

describe('PostgreSQL history store shared by instances', () => {
  it('three instances opening one new database at once migrate it once and share one store id and its rows', async () => {
    const url = await freshDatabase()
    const stores = await Promise.all([1, 2, 3].map(async () => await openSqlHistoryStore(openPostgresDriver(url))))
    const ids = await Promise.all(stores.map(async (s) => await s.storeId()))
    expect(new Set(ids).size).toBe(1)
    const a = attempt()
    expect(await stores[0]?.insert([a])).toBe(1)
    expect(await stores[1]?.insert([a])).toBe(0)
    expect((await stores[2]?.eventRecords('tenant-a', 'evt-1'))?.map((r) => r.attemptId)).toEqual([a.attemptId])
    await Promise.all(stores.map(async (s) => { await s.close() }))
  })
})
