// Times between an <input type="datetime-local"> (the browser's local time,
// no zone, to the second) and the API's ISO instants. Pure: no DOM.

const pad = (n: number): string => String(n).padStart(2, '0')

/** `YYYY-MM-DDTHH:MM:SS` in local time, as a datetime-local input shows it. */
export function toLocalInput (at: Date): string {
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`
}

/** The ISO instant of a datetime-local value (read as local time, as ECMAScript does for a date-time without offset); undefined when empty or malformed. */
export function fromLocalInput (value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return undefined
  const at = new Date(value)
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString()
}
