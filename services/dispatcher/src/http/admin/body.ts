import type { IncomingMessage } from 'node:http'
import { ApiError } from './errors.js'

/** Default cap on a request body. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024

const JSON_MEDIA_TYPES = new Set(['application/json', 'application/merge-patch+json'])

/**
 * Reads a JSON request body of at most `maxBytes`. Resolves undefined when
 * there is no body (no bytes). A declared `content-length` above the cap is
 * refused before reading; a chunked body is refused as soon as it passes the
 * cap, and the rest is not buffered.
 *
 * Throws {@link ApiError}: 413 `WHD_ERR_PAYLOAD_TOO_LARGE`, 415
 * `WHD_ERR_UNSUPPORTED_MEDIA_TYPE` (a body that is not JSON), 400
 * `WHD_ERR_BAD_REQUEST` (malformed JSON or UTF-8).
 */
export async function readJsonBody (req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = (): ApiError => new ApiError('WHD_ERR_PAYLOAD_TOO_LARGE', `the request body exceeds ${maxBytes} bytes`)
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge()
  const body = await collect(req, maxBytes, tooLarge)
  const size = body.length
  if (size === 0) return undefined
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (!JSON_MEDIA_TYPES.has(mediaType)) {
    throw new ApiError('WHD_ERR_UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (content-type: application/json)')
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw new ApiError('WHD_ERR_BAD_REQUEST', 'the request body is not valid UTF-8')
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new ApiError('WHD_ERR_BAD_REQUEST', 'the request body is not valid JSON')
  }
}

// Event-based rather than `for await`: leaving an async iterator early
// destroys the request, and with it the socket the 413 must be written to.
// Past the cap the rest is neither buffered nor read; the response then
// closes the connection.
function collect (req: IncomingMessage, maxBytes: number, tooLarge: () => ApiError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBytes) {
        cleanup()
        req.pause()
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(new ApiError('WHD_ERR_BAD_REQUEST', 'the request body could not be read', { cause: err }))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}
