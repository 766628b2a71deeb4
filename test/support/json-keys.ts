// Duplicate keys in a JSON text: pino writes a child's bindings as text, so a
// key bound twice appears twice, and JSON.parse would hide it (the last wins).

/** Every key that occurs twice in one object of a JSON text (pino writes bindings as text, so JSON.parse would hide them). */
export function duplicateKeys (json: string): string[] {
  const stack: Array<Set<string> | null> = []
  const duplicates: string[] = []
  let i = 0
  while (i < json.length) {
    const c = json[i] as string
    if (c === '"') {
      let j = i + 1
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1
      const text = json.slice(i, j + 1)
      let k = j + 1
      while (json[k] === ' ') k++
      const keys = stack.at(-1)
      if (json[k] === ':' && keys !== undefined && keys !== null) {
        const key = JSON.parse(text) as string
        if (keys.has(key)) duplicates.push(key)
        keys.add(key)
      }
      i = j + 1
      continue
    }
    if (c === '{') stack.push(new Set())
    else if (c === '[') stack.push(null)
    else if (c === '}' || c === ']') stack.pop()
    i++
  }
  return duplicates
}
