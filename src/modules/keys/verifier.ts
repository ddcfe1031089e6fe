// keys.verifyKey: answers "is this key valid?", from memory when the key is
// cached (no await at all on that path). The outcome is a code, evaluated in
// this order (each step only while still VALID):
//   NOT_FOUND (unknown, deleted, deleted API, other workspace, or the root key
//   may not verify keys of this API) → DISABLED → EXPIRED →
//   INSUFFICIENT_PERMISSIONS → RATE_LIMITED → USAGE_EXCEEDED → VALID.
// Synchronous from the cached key to the credit decrement, so concurrent
// verifies of one key can never overspend it. (In cluster mode a shared
// ratelimit or credit balance answers later, and `decide` runs again with its
// answer: see `Resumed`.)
import type { Clock } from '../../clock'
import { hashKey } from '../../crypto'
import { permissionsQuerySyntaxError } from '../../errors'
import { isGranted } from '../../rbac/grants'
import { evaluatePermissionQuery, parsePermissionQuery, PermissionQuerySyntaxError } from '../../rbac/query'
import type { AuthContext } from '../../rbac/requirements'
import { whenRoom } from '../analytics/event-buffer'
import { identityView } from '../identities/view'
import type { CreditLedger, SpendResult } from './credits'
import type { VerificationEvent, VerificationLog } from './events'
import { startOf } from './format'
import type { KeyLoader, LoadedKey } from './loader'
import type { KeyMigrationService } from './migrations'
import type * as m from './model'
import type { RatelimitCheck, RatelimitResult, RatelimitStep } from './ratelimits'

export type VerifyInput = typeof m.VerifyKeyBody.static
export type VerifyCode = (typeof m.VERIFY_CODES)[number]
export type VerifyResult = Omit<(typeof m.VerifyKeyResponse.static)['data'], 'code'> & { code: VerifyCode }

type Query = ((has: (slug: string) => boolean) => boolean) | null

/** One verifyKey call: its request id, when it started (for latency) and its instant. */
interface Call {
  requestId: string
  started: number
  now: number
}

/** What a shared limiter or balance (cluster mode) answered, when `decide` runs again with it. */
interface Resumed {
  limited?: RatelimitResult
  credits?: SpendResult
}

/** No tags: one shared array (never changed), not one per verification. */
const NO_TAGS: string[] = Object.freeze([]) as unknown as string[]

/** Compiles a permission query into a predicate over a key's permissions; bad syntax is the caller's 400. */
function compileQuery(input: string | undefined): Query {
  if (input === undefined) return null
  try {
    const query = parsePermissionQuery(input)
    return (has) => evaluatePermissionQuery(query, has)
  } catch (error) {
    if (error instanceof PermissionQuerySyntaxError) throw permissionsQuerySyntaxError(error.message)
    throw error
  }
}

export interface KeyVerifierDeps {
  loader: KeyLoader
  keyMigrations: KeyMigrationService
  credits: CreditLedger
  events: VerificationLog
  ratelimits: RatelimitStep
  /** Null while the event buffers (verifications and ratelimit decisions) have room; else when they will. */
  eventRoom: () => Promise<void> | null
}

export class KeyVerifier {
  constructor(
    private readonly clock: Clock,
    private readonly deps: KeyVerifierDeps,
  ) {}

  /** `requestId` labels the recorded event (analytics' `request_id`). */
  verify(auth: AuthContext, input: VerifyInput, requestId = ''): VerifyResult | Promise<VerifyResult> {
    const started = performance.now()
    // A malformed query is the caller's mistake whatever the key: 400 before any lookup.
    const query = compileQuery(input.permissions)
    const call: Call = { requestId, started, now: this.clock.now() }
    const hash = hashKey(input.key)
    // Only the caller's workspace is searched: another workspace's key with this hash stays NOT_FOUND.
    const found = this.deps.loader.findByHash(auth.workspaceId, hash)
    if (found instanceof Promise || this.needsStore(auth, input, found)) return this.verifyFromStore(auth, input, query, call, hash, found)
    return this.decide(auth, input, query, call, found)
  }

  /** A foreign-hash migration to complete, or a migrated key's `start` to record. */
  private needsStore(auth: AuthContext, input: VerifyInput, key: LoadedKey | null): boolean {
    return key === null ? input.migrationId !== undefined : key.start === '' && key.workspaceId === auth.workspaceId
  }

  private async verifyFromStore(
    auth: AuthContext,
    input: VerifyInput,
    query: Query,
    call: Call,
    hash: string,
    found: LoadedKey | null | Promise<LoadedKey | null>,
  ): Promise<VerifyResult> {
    let key = await found
    if (!key && input.migrationId && (await this.deps.keyMigrations.complete(auth.workspaceId, input.migrationId, input.key, hash))) {
      key = await this.deps.loader.findByHash(auth.workspaceId, hash)
    }
    // Migrated keys have no `start` until their plaintext is first seen by their own workspace.
    if (key && key.start === '' && key.workspaceId === auth.workspaceId) await this.deps.loader.recordStart(key, startOf(input.key))
    return this.decide(auth, input, query, call, key)
  }

  private decide(
    auth: AuthContext,
    input: VerifyInput,
    query: Query,
    call: Call,
    key: LoadedKey | null,
    resumed?: Resumed,
  ): VerifyResult | Promise<VerifyResult> {
    const { requestId, now } = call
    const tags = input.tags ?? NO_TAGS
    if (
      !key ||
      key.workspaceId !== auth.workspaceId ||
      !(isGranted(auth.permissions, 'api.*.verify_key') || isGranted(auth.permissions, `api.${key.apiId}.verify_key`))
    ) {
      this.deps.events.record({
        requestId,
        time: now,
        workspaceId: auth.workspaceId,
        apiId: null,
        keyId: null,
        identityId: null,
        externalId: null,
        outcome: 'NOT_FOUND',
        tags,
        creditsSpent: 0,
        latency: performance.now() - call.started,
      })
      return this.whenRoom({ valid: false, code: 'NOT_FOUND' })
    }

    let code: VerifyCode = 'VALID'
    let checks: RatelimitCheck[] = []
    let spent = 0
    if (!key.enabled) code = 'DISABLED'
    else if (key.expiresAt !== null && key.expiresAt <= now) code = 'EXPIRED'
    else if (query && !query((slug) => key.permissionSet.has(slug))) code = 'INSUFFICIENT_PERMISSIONS'
    // Cluster mode: a shared limiter or balance answers later, and the decision is taken again with its answer.
    let limited = resumed?.limited
    if (code === 'VALID') {
      const step = limited ?? this.deps.ratelimits(key, input.ratelimits ?? [], call)
      if (step instanceof Promise) return step.then((answer) => this.decide(auth, input, query, call, key, { limited: answer }))
      limited = step
      checks = step.checks
      if (!step.passed) code = 'RATE_LIMITED'
    }
    // A balance that moved (a spend or a refill) is written before the answer goes out.
    let written: Promise<void> | null = null
    if (code === 'VALID') {
      const credits = resumed?.credits ?? this.deps.credits.spend(key, input.credits?.cost ?? 1, now)
      if (credits instanceof Promise) return credits.then((answer) => this.decide(auth, input, query, call, key, { limited, credits: answer }))
      if (credits.remaining !== undefined) key.remaining = credits.remaining
      if (credits.ok) spent = credits.spent
      else code = 'USAGE_EXCEEDED'
      if (credits.changed) written = this.deps.credits.commit(key, spent)
    }

    const event: VerificationEvent = {
      requestId,
      time: now,
      workspaceId: key.workspaceId,
      apiId: key.apiId,
      keyId: key.id,
      identityId: key.identity?.id ?? null,
      externalId: key.identity?.externalId ?? null,
      outcome: code,
      tags,
      creditsSpent: spent,
      latency: performance.now() - call.started,
    }
    const result = this.answer(key, code, checks)
    if (!written) {
      this.deps.events.record(event)
      return this.whenRoom(result)
    }
    // A spend that could not be written is handed back and the request fails (503): no event either.
    return written.then(() => {
      this.deps.events.record(event)
      return this.whenRoom(result)
    })
  }

  /** The answer, once the event buffers have room: a caller faster than the database waits (EventBuffer.room). */
  private whenRoom(result: VerifyResult): VerifyResult | Promise<VerifyResult> {
    return whenRoom(this.deps.eventRoom(), result)
  }

  private answer(key: LoadedKey, code: VerifyCode, checks: RatelimitCheck[]): VerifyResult {
    // Assigned one by one, in the order the answer is serialised: a conditional spread per optional field cost a copy each.
    const result: VerifyResult = { valid: code === 'VALID', code, keyId: key.id }
    if (key.name !== null) result.name = key.name
    if (key.meta !== null) result.meta = key.meta
    if (key.expiresAt !== null) result.expires = key.expiresAt
    // Like the upstream, a refused spend reports 0 credits left for this request.
    if (key.remaining !== null) result.credits = code === 'USAGE_EXCEEDED' ? 0 : key.remaining
    result.enabled = key.enabled
    if (key.access.permissions.length) result.permissions = key.access.permissions
    if (key.access.roles.length) result.roles = key.access.roles
    if (key.identity) result.identity = identityView(key.identity)
    if (checks.length) result.ratelimits = checks
    return result
  }
}
