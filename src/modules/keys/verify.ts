// keys.verifyKey: answers "is this key valid?" from memory. The outcome is a
// code, evaluated in this order (each step only while still VALID):
//   NOT_FOUND (unknown, deleted, deleted API, other workspace, or the root key
//   may not verify keys of this API) → DISABLED → EXPIRED →
//   INSUFFICIENT_PERMISSIONS → RATE_LIMITED → USAGE_EXCEEDED → VALID.
// Synchronous from lookup to the credit decrement, so concurrent verifies of
// one key can never overspend it.
import type { Clock } from '../../clock'
import type { AuthContext } from '../../http/auth'
import { isGranted } from '../rootkeys/permissions'
import type { KeyService, LoadedKey } from './service'
import { identityView } from './view'

export type VerifyCode =
  | 'VALID'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'INSUFFICIENT_PERMISSIONS'
  | 'USAGE_EXCEEDED'
  | 'RATE_LIMITED'
  | 'DISABLED'
  | 'EXPIRED'

export interface VerifyRatelimitRequest {
  name: string
  cost?: number
  limit?: number
  duration?: number
}

export interface VerifyInput {
  key: string
  tags?: string[]
  permissions?: string
  credits?: { cost: number }
  ratelimits?: VerifyRatelimitRequest[]
  migrationId?: string
}

export interface RatelimitCheck {
  exceeded: boolean
  id: string
  name: string
  limit: number
  duration: number
  reset: number
  remaining: number
  autoApply: boolean
}

/** Checks a key's ratelimits (all-or-nothing); provided by the ratelimit module. */
/** The limiter reads the same clock as the verifier, so no time is passed. */
export type RatelimitStep = (key: LoadedKey, requested: VerifyRatelimitRequest[]) => { passed: boolean; checks: RatelimitCheck[] }

/** Compiles a permission query (throwing a 400 on bad syntax) into a predicate over a key's permissions. */
export type PermissionQueryStep = (query: string) => (has: (slug: string) => boolean) => boolean

export class KeyVerifier {
  constructor(
    private readonly keys: KeyService,
    private readonly clock: Clock,
    private readonly steps: { permissionQuery: PermissionQueryStep; ratelimits: RatelimitStep },
  ) {}

  verify(auth: AuthContext, input: VerifyInput) {
    // A malformed query is the caller's mistake whatever the key: 400 before any lookup.
    const query = input.permissions === undefined ? null : this.steps.permissionQuery(input.permissions)
    const now = this.clock.now()
    const key = this.keys.lookupByPlaintext(input.key, auth.workspaceId, input.migrationId)
    if (
      !key ||
      key.workspaceId !== auth.workspaceId ||
      !(isGranted(auth.permissions, 'api.*.verify_key') || isGranted(auth.permissions, `api.${key.apiId}.verify_key`))
    ) {
      this.keys.events.record({
        time: now,
        workspaceId: auth.workspaceId,
        apiId: null,
        keyId: null,
        identityId: null,
        outcome: 'NOT_FOUND',
        tags: input.tags ?? [],
        creditsSpent: 0,
      })
      return { valid: false, code: 'NOT_FOUND' as VerifyCode }
    }

    let code: VerifyCode = 'VALID'
    let checks: RatelimitCheck[] = []
    let spent = 0
    if (!key.enabled) code = 'DISABLED'
    else if (key.expiresAt !== null && key.expiresAt <= now) code = 'EXPIRED'
    else if (query && !query((slug) => key.permissionSet.has(slug))) code = 'INSUFFICIENT_PERMISSIONS'
    if (code === 'VALID') {
      const limited = this.steps.ratelimits(key, input.ratelimits ?? [])
      checks = limited.checks
      if (!limited.passed) code = 'RATE_LIMITED'
    }
    if (code === 'VALID') {
      const credits = this.keys.spendCredits(key, input.credits?.cost ?? 1, now)
      if (credits.ok) spent = credits.spent
      else code = 'USAGE_EXCEEDED'
    }

    this.keys.events.record({
      time: now,
      workspaceId: key.workspaceId,
      apiId: key.apiId,
      keyId: key.id,
      identityId: key.identity?.id ?? null,
      outcome: code,
      tags: input.tags ?? [],
      creditsSpent: spent,
    })

    return {
      valid: code === 'VALID',
      code,
      keyId: key.id,
      ...(key.name !== null ? { name: key.name } : {}),
      ...(key.meta !== null ? { meta: key.meta } : {}),
      ...(key.expiresAt !== null ? { expires: key.expiresAt } : {}),
      // Like the upstream, a refused spend reports 0 credits left for this request.
      ...(key.remaining !== null ? { credits: code === 'USAGE_EXCEEDED' ? 0 : key.remaining } : {}),
      enabled: key.enabled,
      ...(key.access.permissions.length ? { permissions: key.access.permissions } : {}),
      ...(key.access.roles.length ? { roles: key.access.roles } : {}),
      ...(key.identity ? { identity: identityView(key.identity) } : {}),
      ...(checks.length ? { ratelimits: checks } : {}),
    }
  }
}
