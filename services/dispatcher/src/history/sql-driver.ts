/** What the SQL history store needs of a database: both drivers take `?` placeholders. */
export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres'
  query: <T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => Promise<T[]>
  /** Resolves with the number of rows changed. */
  execute: (sql: string, params?: readonly unknown[]) => Promise<number>
  /** Runs `sql` once per parameter list, in order; resolves with the rows changed in all. */
  executeEach: (sql: string, rows: ReadonlyArray<readonly unknown[]>) => Promise<number>
  /** Runs `work` in one transaction on one connection; `lockKey` serialises it with other instances where the database is shared. */
  transaction: <T>(work: (tx: SqlDriver) => Promise<T>, lockKey?: number) => Promise<T>
  close: () => Promise<void>
}
