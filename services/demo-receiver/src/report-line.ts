// One concise console line per webhook received.

export interface ReportedWebhook {
  receivedAt: Date
  webhookId: string | undefined
  /** The parsed body, when it was JSON. */
  body: unknown
  signatureOk: boolean
  status: number
  note?: string
}

function field (value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '-'
}

export function reportLine ({ receivedAt, webhookId, body, signatureOk, status, note }: ReportedWebhook): string {
  const { type, data } = (typeof body === 'object' && body !== null ? body : {}) as { type?: unknown, data?: unknown }
  const { accountId, accountSequence } = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>
  return [
    receivedAt.toISOString().slice(11, 23),
    field(type).padEnd(26),
    `account=${field(accountId)}`,
    `seq=${field(accountSequence)}`,
    `id=${webhookId === undefined ? '-' : webhookId.slice(0, 8)}`,
    `sig=${signatureOk ? 'ok' : 'BAD'}`,
    `→ ${status}`,
    ...(note === undefined ? [] : [note])
  ].join('  ')
}
