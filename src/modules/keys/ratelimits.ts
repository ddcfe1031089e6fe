// The ratelimit step of verifyKey: which limits a verification is checked
// against, and how. Every `autoApply` limit of the key and of its identity is
// checked; a requested limit is looked up by name on the key first, then on
// its identity (so a key's limit wins over its identity's of the same name),
// or used inline when the request gives both `limit` and `duration`. A key's
// limits count per key; an identity's are shared by all of the identity's
// keys. All limits are checked together: if one fails, none consumes. Each
// decision is recorded as a ratelimit event. Over the in-memory limiter the
// step answers at once; over the shared one (cluster mode) it answers later.
import { createHash } from 'node:crypto'
import { preconditionFailed } from '../../errors'
import { base58 } from '../../crypto'
import type { RatelimitDefinition } from '../ratelimit/definitions'
import type { RatelimitLog } from '../ratelimit/events'
import type { LimitDecision, Limiter, LimitRequest } from '../ratelimit/limiter'
import type { LoadedKey } from './loader'
import type * as m from './model'

/** One entry of verifyKey's `ratelimits`. */
export type VerifyRatelimitRequest = NonNullable<(typeof m.VerifyKeyBody.static)['ratelimits']>[number]
/** One checked limit, as verifyKey reports it. */
export type RatelimitCheck = typeof m.VerifyRatelimitResult.static
/** The verification a check belongs to, for its ratelimit event. */
export interface CheckContext {
  requestId: string
  /** The verification's instant (unix ms). */
  now: number
}
/**
 * Checks a key's ratelimits (all-or-nothing). The limiter reads the same clock
 * as the verifier; `context` only labels the recorded decisions.
 */
export type RatelimitStep = (key: LoadedKey, requested: VerifyRatelimitRequest[], context?: CheckContext) => RatelimitResult | Promise<RatelimitResult>

export interface RatelimitResult {
  passed: boolean
  checks: RatelimitCheck[]
}

interface Planned {
  id: string
  name: string
  limit: number
  duration: number
  autoApply: boolean
  cost: number
  identifier: string
}

/** A stable id for an inline limit that has no stored definition. */
const inlineId = (keyId: string, name: string) => `rl_${base58(createHash('sha256').update(`${keyId}\u0000${name}`).digest().subarray(0, 12))}`

function missingLimit(key: LoadedKey, name: string) {
  const owner = key.identity ? `nor identity '${key.identity.id}' (externalId '${key.identity.externalId}')` : 'and the key has no identity'
  return preconditionFailed(`Ratelimit '${name}' was requested but does not exist for key '${key.id}' ${owner}.`)
}

export function planRatelimits(key: LoadedKey, requested: VerifyRatelimitRequest[]): Planned[] {
  const own = new Map(key.ratelimits.map((d) => [d.name, d]))
  const shared = new Map((key.identity?.ratelimits ?? []).map((d) => [d.name, d]))
  const stored = (name: string): { def: RatelimitDefinition; identifier: string } | null => {
    const mine = own.get(name)
    if (mine) return { def: mine, identifier: key.id }
    const theirs = shared.get(name)
    return theirs ? { def: theirs, identifier: key.identity!.id } : null
  }
  const plan = new Map<string, Planned>()
  for (const r of requested) {
    const found = stored(r.name)
    const cost = r.cost ?? 1
    if (r.limit !== undefined && r.duration !== undefined) {
      plan.set(r.name, {
        id: found?.def.id ?? inlineId(key.id, r.name),
        name: r.name,
        limit: r.limit,
        duration: r.duration,
        autoApply: found?.def.autoApply ?? false,
        cost,
        identifier: key.id,
      })
    } else if (found) {
      plan.set(r.name, { ...found.def, cost, identifier: found.identifier })
    } else {
      throw missingLimit(key, r.name)
    }
  }
  for (const name of new Set([...own.keys(), ...shared.keys()])) {
    if (plan.has(name)) continue
    const found = stored(name)!
    if (found.def.autoApply) plan.set(name, { ...found.def, cost: 1, identifier: found.identifier })
  }
  return [...plan.values()]
}

/**
 * The step over `limiter`. Each decision is recorded in `events` (for
 * analytics.getRatelimits) under the limit's id (`rl_…`) as its namespace and
 * the key or identity it counts for as its identifier.
 */
export function keyRatelimitStep(limiter: Limiter, events: RatelimitLog | null = null): RatelimitStep {
  return (key, requested, context) => {
    if (requested.length === 0 && key.ratelimits.length === 0 && !key.identity?.ratelimits.length) return { passed: true, checks: [] }
    const started = performance.now()
    const plan = planRatelimits(key, requested)
    if (plan.length === 0) return { passed: true, checks: [] }
    const requests: LimitRequest[] = plan.map((p) => ({
      bucket: `${key.workspaceId}:key-ratelimit:${p.name}`,
      identifier: p.identifier,
      limit: p.limit,
      duration: p.duration,
      cost: p.cost,
    }))
    const decided = limiter.limit(requests)
    if (decided instanceof Promise) return decided.then((result) => report(key, plan, result, events, started, context))
    return report(key, plan, decided, events, started, context)
  }
}

/** The checks verifyKey reports for a decision, each recorded as a ratelimit event. */
function report(key: LoadedKey, plan: Planned[], result: LimitDecision, events: RatelimitLog | null, started: number, context?: CheckContext): RatelimitResult {
  const checks: RatelimitCheck[] = plan.map((p, i) => {
    const outcome = result.outcomes[i]!
    return {
      exceeded: !outcome.passed,
      id: p.id,
      name: p.name,
      limit: p.limit,
      duration: p.duration,
      reset: outcome.reset,
      remaining: outcome.remaining,
      autoApply: p.autoApply,
    }
  })
  if (events) {
    const latency = performance.now() - started
    plan.forEach((p, i) => {
      const check = checks[i]!
      events.record({
        requestId: context?.requestId ?? '',
        time: context?.now ?? 0,
        workspaceId: key.workspaceId,
        namespaceId: p.id,
        identifier: p.identifier,
        passed: !check.exceeded,
        latency,
        overrideId: null,
        limit: p.limit,
        remaining: check.remaining,
        resetAt: check.reset,
        tokens: p.cost,
      })
    })
  }
  return { passed: result.passed, checks }
}
