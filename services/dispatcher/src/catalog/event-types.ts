// Event types and their descriptions, as the family schemas state them: the
// record's doc ends "Event types: a (what a means), b (what b means)." and the
// eventType field's doc reads "One of: a, b." (families.ts reads the latter).

/**
 * The description of each event type in a record doc's "Event types: …"
 * sentence: `transaction.posted (booked; balanceAfter set)` gives
 * "booked; balanceAfter set". Parentheses may nest one level.
 */
export function eventTypeDescriptions (recordDoc: string | undefined): Map<string, string> {
  const descriptions = new Map<string, string>()
  const start = recordDoc?.indexOf('Event types: ') ?? -1
  if (recordDoc === undefined || start < 0) return descriptions
  const text = recordDoc.slice(start + 'Event types: '.length)
  const entry = /([a-z0-9_]+(?:\.[a-z0-9_]+)+) \(((?:[^()]|\([^()]*\))*)\)/g
  for (const match of text.matchAll(entry)) {
    const [, name, description] = match
    if (name !== undefined && description !== undefined) descriptions.set(name, description)
  }
  return descriptions
}

/** The record doc without its layout details: the first sentence ("A money movement on an account."). */
export function familySummary (recordDoc: string | undefined): string {
  const first = /^[^.]*\./.exec(recordDoc ?? '')
  return first?.[0] ?? ''
}
