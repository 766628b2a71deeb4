import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import type { SqlDriver } from './sql-driver.js'

/**
 * The embedded index: Node's built-in SQLite (node:sqlite), so a
 * one-instance deployment and `make dev` need no database server and no
 * native module to build. WAL lets the admin API read while the indexer
 * writes. Calls are synchronous underneath; transactions are queued, since
 * one connection cannot nest them.
 */
export function openSqliteDriver (path: string): SqlDriver {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new DatabaseSync(path)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000')
  let queue: Promise<unknown> = Promise.resolve()
  // Statements are prepared once: the indexer's multi-row INSERT has
  // thousands of parameters, and preparing it per batch costs more than running it.
  const statements = new Map<string, StatementSync>()
  const prepared = (sql: string): StatementSync => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  const params = (values: readonly unknown[]): SQLInputValue[] => values as SQLInputValue[]
  const driver: SqlDriver = {
    dialect: 'sqlite',
    query: async <T extends Record<string, unknown>>(sql: string, values: readonly unknown[] = []) => prepared(sql).all(...params(values)) as T[],
    execute: async (sql, values = []) => Number(prepared(sql).run(...params(values)).changes),
    // One call for a transaction's rows: a promise per row cost the indexer
    // more than binding the row did.
    executeEach: async (sql, rows) => {
      const statement = prepared(sql)
      let changed = 0
      for (const values of rows) changed += Number(statement.run(...params(values)).changes)
      return changed
    },
    transaction: async (work) => {
      const run = queue.then(async () => {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await work(driver)
          db.exec('COMMIT')
          return result
        } catch (err) {
          db.exec('ROLLBACK')
          throw err
        }
      })
      queue = run.catch(() => undefined)
      return await run
    },
    close: async () => {
      await queue
      db.close()
    }
  }
  return driver
}
