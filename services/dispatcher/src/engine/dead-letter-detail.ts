import type { DeliveryState } from './delivery-task.js'

/** Dead-letter details are written to a Kafka header; bounded like `whd-last-error`. */
export const MAX_DETAIL_LENGTH = 500

/**
 * The human-readable `whd-dead-letter-detail` of a dead letter, for an
 * operator reading the topic: `reason` is the stable code to branch on, this
 * says what happened in words. A decode failure's detail is the decoder's
 * own message (it names the schema id and what is wrong); a delivery's is
 * built here from its state. Never payload bytes: decoder messages and
 * `lastError` come from our own code, not from the record or a response body.
 */
export function deadLetterDetail (reason: string, state: DeliveryState, decodeDetail?: string): string {
  return bounded(decodeDetail ?? deliveryDetail(reason, state))
}

function deliveryDetail (reason: string, state: DeliveryState): string {
  const last = lastFailure(state)
  switch (reason) {
    case 'retries-exhausted': {
      const since = state.firstFailureAt === undefined ? '' : ` since ${new Date(state.firstFailureAt).toISOString()}`
      return `retries exhausted after ${state.attempts} attempts${since}${last}`
    }
    case 'endpoint-gone': return `the endpoint answered 410 Gone and is now disabled${last}`
    case 'endpoint-disabled': return 'the endpoint is disabled; its events are dead-lettered until it is enabled (then redrive)'
    case 'endpoint-quarantined': return 'the endpoint is quarantined: its subscription record cannot be verified or decrypted with SECRETS_ENCRYPTION_KEYS'
    case 'malformed-parked-record': return 'a retry-topic record without the whd- headers a dispatcher writes'
    default: return `dead-lettered: ${reason}${last}`
  }
}

function lastFailure (state: DeliveryState): string {
  const status = state.lastStatus === undefined ? '' : `HTTP ${state.lastStatus}`
  const error = state.lastError ?? ''
  const both = [status, error].filter((part) => part !== '').join(', ')
  return both === '' ? '' : `; last failure: ${both}`
}

function bounded (text: string): string {
  return text.length <= MAX_DETAIL_LENGTH ? text : `${text.slice(0, MAX_DETAIL_LENGTH - 1)}…`
}
