import type { HistoryStore } from './store.js'

/** The store's reads, which another thread may ask for by name (wiring/history-reader.ts); never its writes. */
export const STORE_QUERIES = ['storeId', 'eventRecords', 'attempts', 'totals', 'deliveredEventIds', 'count'] as const

export type StoreQuery = typeof STORE_QUERIES[number]

export function isStoreQuery (name: unknown): name is StoreQuery {
  return (STORE_QUERIES as readonly unknown[]).includes(name)
}

/** Runs the read named `method` with `args` on the store. */
export async function runStoreQuery (store: HistoryStore, method: StoreQuery, args: readonly unknown[]): Promise<unknown> {
  const read = store[method] as (...values: unknown[]) => Promise<unknown>
  return await read.apply(store, [...args])
}
