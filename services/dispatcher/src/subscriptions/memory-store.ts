// The in-memory side of the subscription store, shared by every store: input
// validation, the write rules (rotation, pause, enable), and the materialised
// view the engine reads on every event. A store only decides how a change is
// persisted: at once (MemorySubscriptionStore, here) or through the compacted
// topic (TopicSubscriptionStore, topic-store.ts).
import { randomUUID } from 'node:crypto'
import type { SsrfPolicy } from '../delivery/ssrf/address-policy.js'
import { checkEndpointUrl, SSRF_BLOCKED } from '../delivery/ssrf/endpoint-url.js'
import { decodeSecret, generateSecret } from '../delivery/sign.js'
import { EndpointQuarantinedError, EndpointUrlBlockedError, EndpointUrlInvalidError, SubscriptionNotFoundError, SubscriptionRevisionMismatchError, SubscriptionValidationError } from '../errors.js'
import { eventTypeMatches } from './match.js'
import type { StoredSecret, StoredSubscription } from './record.js'
import { type Static, type TSchema } from '@sinclair/typebox'
import { EndpointPatch, firstProblem, GraceSeconds, Reason, SubscriptionFileEntry, SubscriptionInput as SubscriptionInputSchema, subscriptionLimits } from './schema.js'
import { tlsMaterialProblem } from './tls-check.js'
import type {
  ListQuery,
  Page,
  SecretIssued,
  SubscriptionInput,
  SubscriptionPatch,
  SubscriptionState,
  SubscriptionStore,
  WriteCondition
} from './store.js'
import type { Subscription } from './types.js'

// ---- validation ---------------------------------------------------------
// The schema (schema.ts) decides what is valid; this section turns its first
// problem into a SubscriptionValidationError naming the field, and adds what
// a schema cannot: the URL's SSRF check and normal form.

/** Longest page of `list`. */
export const LIST_LIMIT_MAX = 200

const STATES: ReadonlySet<SubscriptionState> = new Set(['enabled', 'disabled', 'paused'])

type Tls = NonNullable<StoredSubscription['tls']>

/** Validated fields of a create, update or import; `null` clears an optional field. */
interface NormalisedFields {
  url?: string
  eventTypes?: string[]
  description?: string | null
  maxInFlight?: number | null
  rateLimitPerSecond?: number | null
  tls?: Tls | null
}

const invalid = (field: string, reason: string): never => { throw new SubscriptionValidationError(field, reason) }

/** Throws the first problem of `value` against `schema`, naming the field (`what` when it is the whole value). */
function conform<T extends TSchema> (schema: T, value: unknown, what: string): Static<T> {
  const problem = firstProblem(schema, value) ?? (typeof value === 'object' && value !== null ? tlsMaterialProblem((value as { tls?: Tls | null }).tls) : undefined)
  if (problem !== undefined) invalid(problem.field === '' ? what : problem.field, problem.reason)
  return value as Static<T>
}

/** The endpoint URL in WHATWG-normalised form, or an error with code `WHD_ERR_URL_INVALID` / `WHD_ERR_SSRF_BLOCKED`. */
export function validateEndpointUrl (value: unknown, ssrf: SsrfPolicy, field = 'url'): string {
  if (typeof value !== 'string' || value.trim() === '') throw new EndpointUrlInvalidError(field, 'must be a non-empty URL')
  if (value.length > subscriptionLimits.urlMaxLength) throw new EndpointUrlInvalidError(field, `must be at most ${subscriptionLimits.urlMaxLength} characters`)
  if (/\s/.test(value)) throw new EndpointUrlInvalidError(field, 'must not contain whitespace')
  const checked = checkEndpointUrl(value, ssrf)
  if (checked.ok) return checked.url
  throw checked.code === SSRF_BLOCKED ? new EndpointUrlBlockedError(field, checked.reason) : new EndpointUrlInvalidError(field, checked.reason)
}

/** The fields of an input that conforms to its schema, the URL checked and normalised. */
function normalise (raw: SubscriptionPatch, ssrf: SsrfPolicy): NormalisedFields {
  const out: NormalisedFields = {}
  // The URL first: its SSRF verdict has its own code and must not hide behind a schema message.
  if (raw.url !== undefined) out.url = validateEndpointUrl(raw.url, ssrf)
  if (raw.eventTypes !== undefined) out.eventTypes = [...raw.eventTypes]
  if (raw.description !== undefined) out.description = raw.description
  if (raw.maxInFlight !== undefined) out.maxInFlight = raw.maxInFlight
  if (raw.rateLimitPerSecond !== undefined) out.rateLimitPerSecond = raw.rateLimitPerSecond
  if (raw.tls !== undefined) out.tls = raw.tls === null || Object.keys(raw.tls).length === 0 ? null : { ...raw.tls }
  return out
}

function applyFields (target: StoredSubscription, fields: NormalisedFields): void {
  if (fields.url !== undefined) target.url = fields.url
  if (fields.eventTypes !== undefined) target.eventTypes = fields.eventTypes
  for (const key of ['description', 'maxInFlight', 'rateLimitPerSecond', 'tls'] as const) {
    const v = fields[key]
    if (v === null) delete target[key]
    else if (v !== undefined) (target as unknown as Record<string, unknown>)[key] = v
  }
}

// ---- the view -----------------------------------------------------------

const iso = (ms: number): string => new Date(ms).toISOString()
const expiry = (secret: StoredSecret): number => (secret.expiresAt === undefined ? Infinity : Date.parse(secret.expiresAt))

/** The secrets that sign at `now`, newest first: those not yet expired. */
export function activeSecrets (secrets: readonly StoredSecret[], now: number): StoredSecret[] {
  return secrets.filter((s) => expiry(s) > now)
}

/**
 * The engine's view of a stored subscription at `now` (only active secrets),
 * frozen, and the time until which that view holds (the next secret expiry).
 */
export function toSubscription (stored: StoredSubscription, now: number): { subscription: Subscription, validUntil: number } {
  const active = activeSecrets(stored.secrets, now)
  const s: Subscription = {
    id: stored.id,
    tenantId: stored.tenantId,
    url: stored.url,
    eventTypes: Object.freeze([...stored.eventTypes]) as string[],
    secrets: Object.freeze(active.map((x) => x.secret)) as string[],
    enabled: stored.enabled,
    paused: stored.paused,
    revision: stored.revision
  }
  if (stored.disabledReason !== undefined) s.disabledReason = stored.disabledReason
  if (stored.maxInFlight !== undefined) s.maxInFlight = stored.maxInFlight
  if (stored.rateLimitPerSecond !== undefined) s.rateLimitPerSecond = stored.rateLimitPerSecond
  if (stored.description !== undefined) s.description = stored.description
  s.createdAt = stored.createdAt
  s.updatedAt = stored.updatedAt
  if (stored.tls !== undefined) s.tls = Object.freeze({ ...stored.tls })
  if (stored.quarantine !== undefined) s.quarantined = stored.quarantine
  return { subscription: Object.freeze(s), validUntil: Math.min(...active.map(expiry)) }
}

/** Canonical text of a stored subscription (fixed key order) for change detection. */
function canonical (s: StoredSubscription, now?: number): string {
  const secrets = now === undefined ? s.secrets : activeSecrets(s.secrets, now)
  return JSON.stringify([
    s.id, s.tenantId, now === undefined ? s.revision : null, s.url, s.eventTypes, s.enabled, s.disabledReason ?? null, s.paused,
    s.maxInFlight ?? null, s.rateLimitPerSecond ?? null, s.description ?? null, s.createdAt,
    now === undefined ? s.updatedAt : null,
    secrets.map((x) => [x.secret, x.createdAt, x.expiresAt ?? null]),
    s.tls === undefined ? null : [s.tls.clientCertPem ?? null, s.tls.clientKeyPem ?? null, s.tls.caPem ?? null],
    s.quarantine ?? null
  ])
}

/** Whether two states differ in anything but `updatedAt` and secrets already expired at `now`. */
function sameContent (a: StoredSubscription, b: StoredSubscription, now: number): boolean {
  return canonical(a, now) === canonical(b, now)
}

function clone (s: StoredSubscription): StoredSubscription {
  const copy: StoredSubscription = { ...s, eventTypes: [...s.eventTypes], secrets: s.secrets.map((x) => ({ ...x })) }
  if (s.tls !== undefined) copy.tls = { ...s.tls }
  return copy
}

function matchesState (s: Subscription, state: SubscriptionState | undefined): boolean {
  if (state === undefined) return true
  if (state === 'disabled') return !s.enabled
  if (state === 'paused') return s.enabled && s.paused === true
  return s.enabled && s.paused !== true
}

/** List order: creation time, then id (ISO-8601 UTC times sort as text). */
function compareKeys (a: { createdAt?: string, id: string }, b: { createdAt?: string, id: string }): number {
  const [x, y] = [a.createdAt ?? '', b.createdAt ?? '']
  if (x !== y) return x < y ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function encodeCursor (s: Subscription): string {
  return Buffer.from(JSON.stringify([s.createdAt, s.id]), 'utf8').toString('base64url')
}

function decodeCursor (cursor: string): { createdAt: string, id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] }
    }
  } catch {}
  return invalid('cursor', 'is not a cursor this API returned')
}

interface Entry {
  stored: StoredSubscription
  view: Subscription
  /** The view is stale from this time on (a secret expires). */
  validUntil: number
}

interface ViewCache {
  views: readonly Subscription[]
  validUntil: number
}

/** Where a store reports a failure it cannot throw to a caller. */
export interface StoreErrorContext {
  /** `disable` (the write behind a 410), `apply` (an unreadable record), `listener`, or a Kafka step. */
  op: string
  id?: string
  partition?: number
  offset?: string
  /** The store can no longer follow the topic (its consumer stopped): the process should exit and restart. */
  fatal?: boolean
}

export interface SubscriptionStoreOptions {
  /** Endpoint URLs are checked against it on create, update and import. */
  ssrf: SsrfPolicy
  /** Clock, ms since the epoch; decides creation times and when a rotated-out secret stops signing. @defaultValue Date.now */
  now?: () => number
  /** Id of a new subscription. @defaultValue crypto.randomUUID */
  newId?: () => string
  /** A new signing secret. @defaultValue `generateSecret()` (whsec_ + 32 random bytes) */
  newSecret?: () => string
  /**
   * Failures no caller can see: the write behind {@link SubscriptionStore.disable},
   * an unreadable record, a listener that threw. Messages never contain secrets.
   * @defaultValue a process warning
   */
  onError?: (err: unknown, context: StoreErrorContext) => void
}

/** What {@link MaterializedSubscriptionStore.upsert} did. */
export type UpsertOutcome = 'created' | 'updated' | 'unchanged'

/**
 * Everything of a {@link SubscriptionStore} except persistence. Reads come
 * from an in-memory view kept up to date by {@link apply}: `get` is O(1),
 * `forTenant` O(1) while no secret expires (then O(tenant's subscriptions)
 * once). Writes of one subscription run one after another, each computing
 * the new state from the view and handing it to {@link persist}, which
 * resolves once the view has applied it.
 */
export abstract class MaterializedSubscriptionStore implements SubscriptionStore {
  protected readonly now: () => number
  protected readonly reportError: (err: unknown, context: StoreErrorContext) => void
  readonly #ssrf: SsrfPolicy
  readonly #newId: () => string
  readonly #newSecret: () => string
  readonly #entries = new Map<string, Entry>()
  readonly #byTenant = new Map<string, Map<string, Entry>>()
  readonly #tenantViews = new Map<string, ViewCache>()
  #allViews: ViewCache | undefined
  readonly #listeners = new Set<(id: string, subscription: Subscription | undefined) => void>()
  readonly #writes = new Map<string, Promise<unknown>>()

  protected constructor (options: SubscriptionStoreOptions) {
    this.#ssrf = options.ssrf
    this.now = options.now ?? Date.now
    this.#newId = options.newId ?? randomUUID
    this.#newSecret = options.newSecret ?? (() => generateSecret())
    this.reportError = options.onError ?? ((err, context) => {
      process.emitWarning(`subscription store: ${context.op}${context.id === undefined ? '' : ` ${context.id}`}: ${(err as Error).message}`)
    })
  }

  /** A copy of the stored state of `id`, secrets and all. */
  protected stored (id: string): StoredSubscription | undefined {
    const entry = this.#entries.get(id)
    return entry === undefined ? undefined : clone(entry.stored)
  }

  /** Makes `next` (undefined: a deletion) durable; resolves once {@link apply} has seen it. */
  protected abstract persist (id: string, next: StoredSubscription | undefined): Promise<void>

  // ---- reads --------------------------------------------------------------

  get (id: string): Subscription | undefined {
    const entry = this.#entries.get(id)
    return entry === undefined ? undefined : this.#fresh(entry, this.now())
  }

  forTenant (tenantId: string): readonly Subscription[] {
    const now = this.now()
    const cached = this.#tenantViews.get(tenantId)
    if (cached !== undefined && now < cached.validUntil) return cached.views
    const entries = this.#byTenant.get(tenantId)
    if (entries === undefined) return []
    const cache = this.#build(entries.values(), now)
    this.#tenantViews.set(tenantId, cache)
    return cache.views
  }

  all (): readonly Subscription[] {
    const now = this.now()
    if (this.#allViews !== undefined && now < this.#allViews.validUntil) return this.#allViews.views
    this.#allViews = this.#build(this.#entries.values(), now)
    return this.#allViews.views
  }

  list (query: ListQuery): Page<Subscription> {
    const { tenantId, eventType, state, limit, cursor } = query
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) invalid('limit', `must be an integer from 1 to ${LIST_LIMIT_MAX}`)
    if (state !== undefined && !STATES.has(state)) invalid('state', `must be one of ${[...STATES].join(', ')}`)
    if (eventType !== undefined && (typeof eventType !== 'string' || eventType === '')) invalid('eventType', 'must be a non-empty string')
    const after = cursor === undefined ? undefined : decodeCursor(cursor)
    const source = tenantId === undefined ? this.all() : this.forTenant(tenantId)
    const items: Subscription[] = []
    let more = false
    // `source` is already in (createdAt, id) order.
    for (const s of source) {
      if (after !== undefined && compareKeys(s, after) <= 0) continue
      if (!matchesState(s, state)) continue
      if (eventType !== undefined && !s.eventTypes.some((f) => eventTypeMatches(f, eventType))) continue
      if (items.length === limit) {
        more = true
        break
      }
      items.push(s)
    }
    const last = items.at(-1)
    return more && last !== undefined ? { items, nextCursor: encodeCursor(last) } : { items }
  }

  revealSecrets (id: string): string[] {
    const subscription = this.get(id)
    if (subscription === undefined) throw new SubscriptionNotFoundError(id)
    return [...subscription.secrets]
  }

  onChange (listener: (id: string, subscription: Subscription | undefined) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  // ---- writes -------------------------------------------------------------

  async create (input: SubscriptionInput): Promise<SecretIssued> {
    const raw = conform(SubscriptionInputSchema, input, 'subscription')
    const tenantId = raw.tenantId
    const fields = normalise(raw, this.#ssrf)
    const id = this.#newId()
    const secret = this.#newSecret()
    const subscription = await this.#serially(id, async () => {
      if (this.#entries.has(id)) throw new SubscriptionValidationError('id', `"${id}" is taken`)
      const now = iso(this.now())
      const next: StoredSubscription = {
        id, tenantId, revision: 1, url: '', eventTypes: [], enabled: true, paused: false, createdAt: now, updatedAt: now, secrets: [{ secret, createdAt: now }]
      }
      applyFields(next, fields)
      return await this.#write(next)
    })
    return { subscription, secret }
  }

  async update (id: string, patch: SubscriptionPatch, condition: WriteCondition = {}): Promise<Subscription> {
    const fields = normalise(conform(EndpointPatch, patch, 'patch'), this.#ssrf)
    return await this.#mutate(id, (next) => applyFields(next, fields), condition)
  }

  async delete (id: string, condition: WriteCondition = {}): Promise<void> {
    await this.#serially(id, async () => {
      const current = this.#entries.get(id)?.stored
      if (current === undefined) throw new SubscriptionNotFoundError(id)
      checkCondition(current, condition)
      await this.persist(id, undefined)
    })
  }

  async rotateSecret (id: string, graceSeconds: number): Promise<SecretIssued> {
    conform(GraceSeconds, graceSeconds, 'graceSeconds')
    const secret = this.#newSecret()
    const subscription = await this.#mutate(id, (next, now) => {
      const until = now + graceSeconds * 1000
      // Every secret active now keeps signing until the grace ends (or its
      // own earlier end, from a previous rotation); the new one signs at once.
      const previous = activeSecrets(next.secrets, now)
        .map((s) => ({ ...s, expiresAt: iso(Math.min(expiry(s), until)) }))
        .filter((s) => expiry(s) > now)
      next.secrets = [{ secret, createdAt: iso(now) }, ...previous].slice(0, subscriptionLimits.activeSecretsMax)
    })
    return { subscription, secret }
  }

  async setPaused (id: string, paused: boolean): Promise<Subscription> {
    if (typeof paused !== 'boolean') invalid('paused', 'must be true or false')
    return await this.#mutate(id, (next) => { next.paused = paused })
  }

  async setEnabled (id: string, enabled: boolean, reason?: string): Promise<Subscription> {
    if (typeof enabled !== 'boolean') invalid('enabled', 'must be true or false')
    if (reason !== undefined) conform(Reason, reason, 'reason')
    return await this.#mutate(id, (next) => {
      next.enabled = enabled
      if (enabled) delete next.disabledReason
      else next.disabledReason = reason ?? next.disabledReason ?? 'disabled by an operator'
    })
  }

  /**
   * Marks the subscription disabled in this instance's view at once (the
   * engine stops delivering to it) and persists that in the background;
   * a failed write goes to `onError`.
   */
  disable (id: string, reason: string): void {
    const entry = this.#entries.get(id)
    if (entry === undefined || !entry.stored.enabled) return
    const disabled = (s: StoredSubscription, now: number): void => {
      s.enabled = false
      // The engine's reasons are short; the cap keeps the record within the schema whatever it says.
      s.disabledReason = reason.slice(0, subscriptionLimits.reasonMaxLength)
      s.updatedAt = iso(now)
      s.revision += 1
    }
    const optimistic = clone(entry.stored)
    disabled(optimistic, this.now())
    this.apply(id, optimistic)
    this.#serially(id, async () => {
      const current = this.#entries.get(id)?.stored
      if (current === undefined) return
      // The view may hold the optimistic state (write that) or something
      // applied since, e.g. an older record read back (disable that again).
      const next = clone(current)
      if (next.enabled) disabled(next, this.now())
      await this.persist(id, next)
    }).catch((err: unknown) => this.reportError(err, { op: 'disable', id }))
  }

  /**
   * Writes `subscription` as given, id and secrets included (newest first;
   * none expires): the import of a subscriptions file. Fields it lacks are
   * cleared. Keeps `createdAt`, and the secrets' times when the active
   * secrets are the same. Writes nothing when only `updatedAt` would change.
   */
  async upsert (subscription: Subscription): Promise<{ outcome: UpsertOutcome, subscription: Subscription }> {
    // The import's entry: the subscriptions file's schema, with the secrets and `enabled` given.
    const { createdAt: _createdAt, updatedAt: _updatedAt, revision: _revision, ...given } = subscription
    const raw = conform(SubscriptionFileEntry, given, 'subscription')
    const { id, tenantId, disabledReason } = raw
    const secrets = validateSecrets(raw.secrets)
    if (typeof raw.enabled !== 'boolean') invalid('enabled', 'must be true or false')
    const fields = normalise(raw, this.#ssrf)

    return await this.#serially(id, async () => {
      const nowMs = this.now()
      const now = iso(nowMs)
      const current = this.#entries.get(id)?.stored
      const sameSecrets = current !== undefined && JSON.stringify(activeSecrets(current.secrets, nowMs).map((s) => s.secret)) === JSON.stringify(secrets)
      const next: StoredSubscription = {
        id,
        tenantId,
        revision: current === undefined ? 1 : current.revision + 1,
        url: '',
        eventTypes: [],
        enabled: raw.enabled as boolean,
        paused: raw.paused === true,
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
        secrets: sameSecrets ? activeSecrets(current.secrets, nowMs) : secrets.map((secret) => ({ secret, createdAt: now }))
      }
      applyFields(next, fields)
      if (!next.enabled) next.disabledReason = disabledReason ?? 'disabled by an operator'
      if (current !== undefined && sameContent(current, next, nowMs)) return { outcome: 'unchanged' as const, subscription: this.#view(id, current) }
      return { outcome: current === undefined ? 'created' as const : 'updated' as const, subscription: await this.#write(next) }
    })
  }

  // ---- applying changes ---------------------------------------------------

  /**
   * Puts a subscription's new state (undefined: deleted) into the view and
   * tells the listeners, unless nothing changed. Stores call it for every
   * change they read back, their own and other instances'.
   */
  protected apply (id: string, next: StoredSubscription | undefined): void {
    const previous = this.#entries.get(id)
    if (next === undefined) {
      if (previous === undefined) return
      this.#entries.delete(id)
      this.#unindex(previous)
      this.#emit(id, undefined)
      return
    }
    if (previous !== undefined && canonical(previous.stored) === canonical(next)) return
    if (previous !== undefined) this.#unindex(previous)
    const stored = clone(next)
    const { subscription, validUntil } = toSubscription(stored, this.now())
    const entry: Entry = { stored, view: subscription, validUntil }
    this.#entries.set(id, entry)
    let tenant = this.#byTenant.get(stored.tenantId)
    if (tenant === undefined) this.#byTenant.set(stored.tenantId, tenant = new Map())
    tenant.set(id, entry)
    this.#tenantViews.delete(stored.tenantId)
    this.#allViews = undefined
    this.#emit(id, subscription)
  }

  #unindex (entry: Entry): void {
    const { id, tenantId } = entry.stored
    const tenant = this.#byTenant.get(tenantId)
    tenant?.delete(id)
    if (tenant?.size === 0) this.#byTenant.delete(tenantId)
    this.#tenantViews.delete(tenantId)
    this.#allViews = undefined
  }

  #emit (id: string, subscription: Subscription | undefined): void {
    for (const listener of this.#listeners) {
      try {
        listener(id, subscription)
      } catch (err) {
        this.reportError(err, { op: 'listener', id })
      }
    }
  }

  #fresh (entry: Entry, now: number): Subscription {
    if (now >= entry.validUntil) {
      const { subscription, validUntil } = toSubscription(entry.stored, now)
      entry.view = subscription
      entry.validUntil = validUntil
    }
    return entry.view
  }

  #build (entries: Iterable<Entry>, now: number): ViewCache {
    const views: Subscription[] = []
    let validUntil = Infinity
    for (const entry of entries) {
      views.push(this.#fresh(entry, now))
      validUntil = Math.min(validUntil, entry.validUntil)
    }
    views.sort(compareKeys)
    return { views: Object.freeze(views), validUntil }
  }

  #view (id: string, fallback: StoredSubscription): Subscription {
    return this.get(id) ?? toSubscription(fallback, this.now()).subscription
  }

  /** Runs the writes of one subscription one after another, so each builds on the last. */
  async #serially<T> (id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#writes.get(id) ?? Promise.resolve()
    const run = previous.then(work, work)
    const tail = run.catch(() => undefined)
    this.#writes.set(id, tail)
    try {
      return await run
    } finally {
      if (this.#writes.get(id) === tail) this.#writes.delete(id)
    }
  }

  /** Applies `change` to a copy of the current state and writes it, unless nothing changed. */
  async #mutate (id: string, change: (next: StoredSubscription, now: number) => void, condition: WriteCondition = {}): Promise<Subscription> {
    return await this.#serially(id, async () => {
      const current = this.#entries.get(id)?.stored
      if (current === undefined) throw new SubscriptionNotFoundError(id)
      // Its secrets are unknown here: a write would store it without them.
      if (current.quarantine !== undefined) throw new EndpointQuarantinedError(id, current.quarantine)
      checkCondition(current, condition)
      const now = this.now()
      const next = clone(current)
      // Expired secrets are dropped whenever the record is written anyway.
      next.secrets = activeSecrets(next.secrets, now)
      change(next, now)
      if (sameContent(current, next, now)) return this.#view(id, current)
      next.updatedAt = iso(now)
      next.revision = current.revision + 1
      return await this.#write(next)
    })
  }

  async #write (next: StoredSubscription): Promise<Subscription> {
    await this.persist(next.id, next)
    return this.#view(next.id, next)
  }
}

/** Refuses a write whose caller saw another revision (`If-Match`); checked inside the serialised write, so it cannot race a local one. */
function checkCondition (current: StoredSubscription, condition: WriteCondition): void {
  if (condition.ifRevision !== undefined && condition.ifRevision !== current.revision) {
    throw new SubscriptionRevisionMismatchError(current.id, current.revision, condition.ifRevision)
  }
}

function validateSecrets (value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) return invalid('secrets', 'must be a non-empty array of whsec_… secrets')
  if (value.length > subscriptionLimits.activeSecretsMax) invalid('secrets', `must list at most ${subscriptionLimits.activeSecretsMax} secrets`)
  value.forEach((secret: unknown, i) => {
    // The value itself is never echoed: it is a secret.
    if (typeof secret !== 'string' || !secret.startsWith('whsec_')) invalid(`secrets[${i}]`, 'must be a whsec_… secret')
    try {
      if (decodeSecret(secret as string).length === 0) throw new Error('empty')
    } catch {
      invalid(`secrets[${i}]`, 'must be "whsec_" followed by non-empty standard base64')
    }
  })
  if (new Set(value).size !== value.length) invalid('secrets', 'must not repeat a secret')
  return [...(value as string[])]
}

/**
 * A store that keeps subscriptions in memory only: each write applies at
 * once. The same validation and rules as the topic-backed store (it shares
 * all but persistence with it), for unit tests of the admin API and for
 * single-process tools.
 */
export class MemorySubscriptionStore extends MaterializedSubscriptionStore {
  constructor (options: SubscriptionStoreOptions) {
    super(options)
  }

  protected async persist (id: string, next: StoredSubscription | undefined): Promise<void> {
    this.apply(id, next)
  }
}
