import pg from 'pg'
import type { SqlDriver } from './sql-driver.js'

// `?` placeholders become $1, $2, …: the statements hold no other `?`.
function numbered (sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

// node-postgres sends a bigint as text; PostgreSQL casts it to BIGINT.
function values (params: readonly unknown[]): unknown[] {
  return params.map((p) => (typeof p === 'bigint' ? p.toString() : p))
}

function on (client: pg.Pool | pg.PoolClient): Pick<SqlDriver, 'query' | 'execute' | 'executeEach'> {
  const execute = async (sql: string, params: readonly unknown[] = []): Promise<number> => (await client.query(numbered(sql), values(params))).rowCount ?? 0
  return {
    query: async <T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) => (await client.query(numbered(sql), values(params))).rows as T[],
    execute,
    executeEach: async (sql, rows) => {
      let changed = 0
      for (const params of rows) changed += await execute(sql, params)
      return changed
    }
  }
}

/**
 * The shared index of several instances: a node-postgres pool. The URL
 * carries the password; errors of the pool never include it.
 */
export function openPostgresDriver (url: string, { max = 4 }: { max?: number } = {}): SqlDriver {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'webhook-dispatcher-history' })
  // An idle client's error (the server restarted) must not crash the process;
  // the next query reconnects.
  pool.on('error', () => undefined)
  const driver: SqlDriver = {
    dialect: 'postgres',
    ...on(pool),
    transaction: async (work, lockKey) => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        if (lockKey !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey])
        const result = await work({ ...driver, ...on(client), transaction: async (inner) => await inner(driver) })
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw err
      } finally {
        client.release()
      }
    },
    close: async () => { await pool.end() }
  }
  return driver
}
