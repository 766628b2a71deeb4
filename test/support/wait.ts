/**
 * The one factor every test deadline is multiplied by: TEST_TIME_SCALE
 * (default 1). A loaded or slower machine sets it above 1; deadlines only
 * bound how long a test waits for a condition, so a larger factor never
 * changes what a test asserts.
 */
export function timeScale (): number {
  const raw = process.env.TEST_TIME_SCALE
  const value = raw === undefined || raw === '' ? 1 : Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`TEST_TIME_SCALE must be a positive number, got "${raw}"`)
  return value
}

/** A deadline in milliseconds, scaled by {@link timeScale}. */
export function scaled (ms: number): number {
  return Math.round(ms * timeScale())
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, or
 * throws once `timeoutMs` has passed, naming what was awaited. Use instead of
 * fixed sleeps.
 */
export async function waitUntil<T> (
  description: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number, intervalMs?: number } = {}
): Promise<T> {
  timeoutMs = scaled(timeoutMs)
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${why}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
