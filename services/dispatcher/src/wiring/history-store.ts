import type { DispatcherConfig } from '../config.js'
import { openPostgresDriver } from '../history/postgres-driver.js'
import { openSqlHistoryStore } from '../history/sql-store.js'
import { openSqliteDriver } from '../history/sqlite-driver.js'
import type { HistoryStore } from '../history/store.js'

/** The history store the configuration names (HISTORY_STORE is not none). */
export async function openHistoryStore (config: Pick<DispatcherConfig, 'historyStore' | 'historySqlitePath' | 'historyPostgresUrl'>): Promise<HistoryStore> {
  const driver = config.historyStore === 'postgres' ? openPostgresDriver(config.historyPostgresUrl as string) : openSqliteDriver(config.historySqlitePath)
  return await openSqlHistoryStore(driver)
}
