/**
 * Values looked up by key and kept once found: `known` answers without a
 * promise for what was found before, and `get` shares one lookup among the
 * callers that wait for the same key. A lookup that fails, or finds nothing
 * (undefined), is not kept: the next caller asks again. For what never
 * changes once it exists, like a schema registry's ids.
 */
export interface KeptLookups<K, V> {
  known: (key: K) => V | undefined
  get: (key: K) => Promise<V>
}

export function keptLookups<K, V> (lookUp: (key: K) => Promise<V>): KeptLookups<K, V> {
  const found = new Map<K, V>()
  const underWay = new Map<K, Promise<V>>()
  return {
    known: (key) => found.get(key),
    async get (key) {
      const value = found.get(key)
      if (value !== undefined) return value
      let lookup = underWay.get(key)
      if (lookup === undefined) {
        lookup = lookUp(key).then((v) => {
          if (v !== undefined) found.set(key, v)
          return v
        }).finally(() => underWay.delete(key))
        underWay.set(key, lookup)
      }
      return await lookup
    }
  }
}
