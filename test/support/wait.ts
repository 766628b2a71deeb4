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
