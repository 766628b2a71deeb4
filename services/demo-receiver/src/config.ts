// Demo receiver settings, read from the environment once and frozen.
import { decodeSecret } from '../../dispatcher/src/delivery/sign.js'

export interface DemoReceiverConfig {
  /** PORT: TCP port on HOST; 0 picks a free one. @defaultValue 18088 */
  readonly port: number
  /** HOST: the address to listen on; 0.0.0.0 in a container the dispatcher reaches over a network. Absent: 127.0.0.1. */
  readonly host?: string
  /** WEBHOOK_SECRET: the endpoint's `whsec_…` secret (required). */
  readonly secret: string
  /** FAIL_RATE: share of valid webhooks answered 500, from 0 to 1. @defaultValue 0 */
  readonly failRate: number
  /** LATENCY_MS: delay before answering a valid webhook. @defaultValue 0 */
  readonly latencyMs: number
}

export const DEFAULT_PORT = 18088

function integer (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

export function loadDemoReceiverConfig (env: NodeJS.ProcessEnv): DemoReceiverConfig {
  const secret = env.WEBHOOK_SECRET
  if (secret === undefined || secret === '') {
    throw new Error('WEBHOOK_SECRET is required: the whsec_… secret of the subscription that points here')
  }
  try {
    decodeSecret(secret)
  } catch {
    throw new Error('WEBHOOK_SECRET must be "whsec_" followed by base64')
  }
  const rawFailRate = env.FAIL_RATE ?? ''
  const failRate = rawFailRate.trim() === '' ? 0 : Number(rawFailRate)
  if (!Number.isFinite(failRate) || failRate < 0 || failRate > 1) {
    throw new Error(`FAIL_RATE must be a number from 0 to 1, got "${rawFailRate}"`)
  }
  return Object.freeze({
    port: integer(env, 'PORT', DEFAULT_PORT, 0, 65_535),
    ...(env.HOST === undefined || env.HOST.trim() === '' ? {} : { host: env.HOST.trim() }),
    secret,
    failRate,
    latencyMs: integer(env, 'LATENCY_MS', 0, 0, 600_000)
  })
}
