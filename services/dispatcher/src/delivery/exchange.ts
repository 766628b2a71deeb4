// One HTTP request and its response through undici's handler interface
// (Dispatcher.dispatch), without `request()`'s response stream: a webhook
// attempt needs the status, the headers and at most a prefix of the body,
// and the stream machinery (a Readable per response, async hooks, the
// abort-signal plumbing, draining it with dump()) cost W1's delivery
// thread about 3 µs a delivery (62 → 59 µs, bench/history.js side by side).
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'

export interface ExchangeLimits {
  /** Response body bytes read at most; past them the socket is dropped and the response stands. */
  maxBodyBytes: number
  /** Body bytes kept (UTF-8 prefix); 0 keeps none. */
  prefixBytes: number
}

export interface Exchanged {
  status: number
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>
  /** Set when `prefixBytes` > 0 and the body was read. */
  bodyPrefix?: string
}

/** Ends an exchange early: before the response it rejects with `reason`; after, the response stands. */
export interface ExchangeHandle {
  done: Promise<Exchanged>
  abort: (reason: Error) => void
}

function flatten (headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

/**
 * Sends `options` on `dispatcher` and settles once the response ended, its
 * body was read past the limit, or it was aborted; the body is read to its
 * end (or the socket dropped) either way, so a keep-alive socket goes back
 * to the pool only when it is clean. 1xx informational responses are passed over.
 */
export function exchange (dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, limits: ExchangeLimits): ExchangeHandle {
  let controller: Dispatcher.DispatchController | undefined
  let pendingAbort: Error | undefined
  let response: Exchanged | undefined
  let settled = false
  let bodyBytes = 0
  const kept: Buffer[] = []
  let keptBytes = 0
  let resolve!: (value: Exchanged) => void
  let reject!: (reason: unknown) => void
  const done = new Promise<Exchanged>((res, rej) => { resolve = res; reject = rej })

  const finish = (): void => {
    if (settled || response === undefined) return
    settled = true
    if (limits.prefixBytes > 0) response.bodyPrefix = new TextDecoder('utf-8').decode(Buffer.concat(kept), { stream: true })
    resolve(response)
  }
  const fail = (err: unknown): void => {
    if (settled) return
    // Once the status is in, a failure reading the body leaves the response as it was.
    if (response !== undefined) {
      finish()
      return
    }
    settled = true
    reject(err)
  }

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart (c) {
      controller = c
      if (pendingAbort !== undefined) c.abort(pendingAbort)
    },
    onResponseStart (_c, statusCode, headers) {
      if (statusCode < 200) return
      response = { status: statusCode, headers: flatten(headers) }
    },
    onResponseData (c, chunk) {
      bodyBytes += chunk.length
      if (keptBytes < limits.prefixBytes) {
        const part = chunk.subarray(0, limits.prefixBytes - keptBytes)
        kept.push(part)
        keptBytes += part.length
      }
      // Past the limit the rest is not worth a socket: drop it.
      if (bodyBytes > limits.maxBodyBytes) {
        finish()
        c.abort(new Error(`response body past ${limits.maxBodyBytes} bytes; the connection is dropped`))
      }
    },
    onResponseEnd () { finish() },
    onResponseError (_c, err) { fail(err) }
  }

  try {
    dispatcher.dispatch(options, handler)
  } catch (err) {
    fail(err)
  }
  return {
    done,
    abort: (reason) => {
      // Not on a socket yet: undici starts it later, and it is aborted then.
      if (controller === undefined) pendingAbort = reason
      else controller.abort(reason)
      fail(reason)
    }
  }
}
