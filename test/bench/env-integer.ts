/** An integer setting of a bench from the environment, or its default; anything else stops the bench naming the variable. */
export function envInteger (env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = (env[name] ?? String(fallback)).trim()
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`)
  return value
}
