// Ratelimit namespaces, overrides and limit decisions.
//
// Namespaces (`rlns_…`, per workspace, addressed by id or name) and overrides
// (`rlor_…`, per namespace and identifier) live in the ratelimitNamespaces
// store; both are cached in memory so that a warm `limit` call makes no store
// call at all (the store is read only on a miss). Every write goes through
// this service, which keeps the caches current (and in cluster mode has the
// other nodes forget theirs). Counters live in the limiter: on one node only
// in memory (a restart gives every identifier a fresh allowance); in cluster
// mode in Redis, shared by the nodes (src/cluster/limiter.ts).
//
// Override precedence for an identifier: an override whose identifier is
// exactly equal wins; otherwise the most specific matching wildcard override
// (`*` = any run of characters, the whole identifier must match): the one with
// the most literal (non-`*`) characters, then the fewest `*`, then the smallest
// identifier in code-unit order, so the choice never depends on storage order.
import type { Clock } from '../../clock'
import { toPage, type Page, type PageInput } from '../../db/pagination'
import type { Stores } from '../../db/stores'
import type { RatelimitNamespace, RatelimitNamespaceSummary, RatelimitOverride } from '../../db/stores/ratelimitNamespaces'
import { namespaceGone, notFound } from '../../errors'
import { newId } from '../../ids'
import { whenRoom } from '../analytics/event-buffer'
import { type AuditContext, withActor } from '../audit/context'
import type { AuditLog } from '../audit/service'
import type { RatelimitLog } from './events'
import { OverrideSet } from './overrides'
import type { Limiter, LimitDecision, LimitOutcome } from './limiter'
import type { LimitBody, SetOverrideBody } from './model'

export type { RatelimitNamespace, RatelimitNamespaceSummary, RatelimitOverride }

export type LimitInput = typeof LimitBody.static
export type SetOverrideInput = typeof SetOverrideBody.static

/** A limit call ready to decide: each input with its namespace and the override that applies. */
interface PreparedLimit {
  workspaceId: string
  inputs: LimitInput[]
  namespaces: RatelimitNamespace[]
  overrides: (RatelimitOverride | undefined)[]
  requestId: string
  /** performance.now() when the call began (the events' latency). */
  started: number
}

/** What one limit call decided: all-or-nothing `passed`, and each request's result. */
export interface LimitCall {
  passed: boolean
  results: LimitResult[]
}

export interface LimitResult extends LimitOutcome {
  namespace: string
  identifier: string
  overrideId?: string
}

/** A namespace as an audit event names it. */
const namespaceResource = (ns: Pick<RatelimitNamespace, 'id' | 'name'>) => ({ type: 'ratelimit_namespace', id: ns.id, name: ns.name })

export const namespaceNotFound = () => notFound('ratelimit_namespace', 'This namespace does not exist.')
export const overrideNotFound = () => notFound('ratelimit_override', 'This override does not exist.')

export class RatelimitService {
  /** Namespaces by id; the objects are shared with `namespaceKeys`, so that a deletion shows under every key. */
  private readonly namespacesById = new Map<string, RatelimitNamespace>()
  /** `${workspaceId}\0${id or name}` → namespace id, for namespaces found so far. */
  private readonly namespaceKeys = new Map<string, string>()
  private readonly overrideSets = new Map<string, OverrideSet>()
  /** Moves on every override write, so that a load which read the store before the write is not cached. */
  private overrideGeneration = 0
  /** Told of every change of a namespace or its overrides made here: cluster mode announces it to the other nodes. */
  announceChange: ((namespaceId: string) => void) | null = null

  constructor(
    private readonly stores: Pick<Stores, 'ratelimitNamespaces' | 'transaction'>,
    private readonly clock: Clock,
    /** The namespace counters (key and identity limits have a limiter of their own). */
    readonly limiter: Limiter,
    private readonly audit: AuditLog,
    /** Where decisions are recorded for analytics.getRatelimits (none: not recorded). */
    private readonly events: RatelimitLog | null = null,
  ) {}

  /**
   * The namespace of this workspace whose id (first) or name is `nameOrId`,
   * including a soft-deleted one; null when there is none. Cached.
   */
  findNamespace(workspaceId: string, nameOrId: string): RatelimitNamespace | null | Promise<RatelimitNamespace | null> {
    return this.cachedNamespace(workspaceId, nameOrId) ?? this.loadNamespace(workspaceId, nameOrId)
  }

  /** A live namespace for the override routes: missing or deleted is a 404. */
  async getNamespace(workspaceId: string, nameOrId: string): Promise<RatelimitNamespace> {
    const namespace = await this.findNamespace(workspaceId, nameOrId)
    if (!namespace || namespace.deletedAt !== null) throw namespaceNotFound()
    return namespace
  }

  /** A page of the workspace's live namespaces in id order; with `only`, of those namespaces alone (a root key's per-namespace grants). */
  async listNamespaces(workspaceId: string, input: PageInput, only?: readonly string[]): Promise<Page<RatelimitNamespaceSummary>> {
    const page = { cursor: input.cursor ?? '', limit: input.limit + 1, ...(only ? { ids: only } : {}) }
    return toPage(await this.stores.ratelimitNamespaces.pageLive(workspaceId, page), input.limit, (n) => n)
  }

  /**
   * Soft-deletes a namespace (by name or id) and deletes its overrides:
   * `limit` answers 410 for it from now on, override routes 404.
   */
  async deleteNamespace(workspaceId: string, nameOrId: string): Promise<void> {
    const namespace = await this.getNamespace(workspaceId, nameOrId)
    const now = this.clock.now()
    await this.stores.transaction(async () => {
      // Another request may have deleted it since the (cached) lookup.
      if ((await this.stores.ratelimitNamespaces.findById(workspaceId, namespace.id))?.deletedAt !== null) throw namespaceNotFound()
      await this.stores.ratelimitNamespaces.softDelete(namespace.id, now)
      const overrides = await this.stores.ratelimitNamespaces.deleteOverrides(namespace.id)
      const resources = [namespaceResource(namespace)]
      const description = `Deleted ratelimit namespace ${namespace.name}${overrides ? ` and its ${overrides} override${overrides === 1 ? '' : 's'}` : ''}`
      await this.audit.record({ workspaceId, event: 'ratelimit.delete_namespace', resources, description })
    })
    namespace.deletedAt = now
    this.changed(namespace.id)
  }

  /**
   * Decides a batch of limit requests at one instant, all-or-nothing. Unknown
   * namespaces are created by name (the caller has checked `create_namespace`);
   * a deleted namespace is a 410 before anything is created or counted. Warm
   * (every namespace and its overrides cached), nothing here awaits a store.
   * Each decision is recorded (buffered) under the request's id. `actor`:
   * who a namespace created by the call is audited as, asked for only then.
   */
  limit(workspaceId: string, inputs: LimitInput[], requestId = '', actor?: () => AuditContext): LimitCall | Promise<LimitCall> {
    const started = performance.now()
    const namespaces: RatelimitNamespace[] = []
    const overrides: (RatelimitOverride | undefined)[] = []
    for (const input of inputs) {
      const namespace = this.cachedNamespace(workspaceId, input.namespace)
      const set = namespace && this.overrideSets.get(namespace.id)
      if (!set) {
        // Only a cold call can create a namespace, the one change a limit call records in the audit log.
        if (actor) return withActor(actor(), () => this.limitCold(workspaceId, inputs, requestId, started))
        return this.limitCold(workspaceId, inputs, requestId, started)
      }
      namespaces.push(namespace)
      overrides.push(set.match(input.identifier))
    }
    if (namespaces.some((ns) => ns.deletedAt !== null)) throw namespaceGone()
    return this.decide({ workspaceId, inputs, namespaces, overrides, requestId, started })
  }

  /** `limit` when a namespace or its overrides are not cached yet (or the namespace is to be created). */
  private async limitCold(workspaceId: string, inputs: LimitInput[], requestId: string, started: number): Promise<LimitCall> {
    const found: (RatelimitNamespace | null)[] = []
    for (const input of inputs) {
      found.push(this.cachedNamespace(workspaceId, input.namespace) ?? (await this.loadNamespace(workspaceId, input.namespace)))
    }
    if (found.some((ns) => ns !== null && ns.deletedAt !== null)) throw namespaceGone()
    const namespaces: RatelimitNamespace[] = []
    for (const [i, ns] of found.entries()) namespaces.push(ns ?? (await this.createNamespace(workspaceId, inputs[i]!.namespace)))
    const overrides: (RatelimitOverride | undefined)[] = []
    for (const [i, ns] of namespaces.entries()) {
      overrides.push((this.overrideSets.get(ns.id) ?? (await this.loadOverrides(ns.id))).match(inputs[i]!.identifier))
    }
    return this.decide({ workspaceId, inputs, namespaces, overrides, requestId, started })
  }

  private decide(call: PreparedLimit): LimitCall | Promise<LimitCall> {
    const { workspaceId, inputs, namespaces, overrides } = call
    const decided = this.limiter.limit(
      inputs.map((input, i) => ({
        bucket: `${workspaceId}:${namespaces[i]!.id}`,
        identifier: input.identifier,
        limit: overrides[i]?.limit ?? input.limit,
        duration: overrides[i]?.duration ?? input.duration,
        cost: input.cost ?? 1,
      })),
    )
    // The shared limiter of cluster mode answers later; the in-memory one at once (no extra turn of the event loop).
    if (decided instanceof Promise) return decided.then((d) => this.afterRoom(this.record(call, d)))
    return this.afterRoom(this.record(call, decided))
  }

  /** The answer, once the decision buffer has room: a caller faster than the database waits (EventBuffer.room). */
  private afterRoom(answer: LimitCall): LimitCall | Promise<LimitCall> {
    return whenRoom(this.events?.room() ?? null, answer)
  }

  private record(call: PreparedLimit, { passed, outcomes }: LimitDecision): LimitCall {
    const { workspaceId, inputs, namespaces, overrides, requestId, started } = call
    const results = outcomes.map((outcome, i): LimitResult => {
      // Field by field, in the order they were spread: a spread is a copy.
      const result: LimitResult = {
        namespace: inputs[i]!.namespace,
        identifier: inputs[i]!.identifier,
        passed: outcome.passed,
        limit: outcome.limit,
        remaining: outcome.remaining,
        reset: outcome.reset,
      }
      const override = overrides[i]
      if (override) result.overrideId = override.id
      return result
    })
    if (this.events) {
      const time = this.clock.now()
      const latency = performance.now() - started
      results.forEach((result, i) => {
        this.events!.record({
          requestId,
          time,
          workspaceId,
          namespaceId: namespaces[i]!.id,
          identifier: result.identifier,
          passed: result.passed,
          latency,
          overrideId: result.overrideId ?? null,
          limit: result.limit,
          remaining: result.remaining,
          resetAt: result.reset,
          tokens: inputs[i]!.cost ?? 1,
        })
      })
    }
    return { passed, results }
  }

  /** Creates or replaces the override for (namespace, identifier); keeps the id on replace. */
  async setOverride(workspaceId: string, input: SetOverrideInput): Promise<RatelimitOverride> {
    const namespace = await this.getNamespace(workspaceId, input.namespace)
    const override: RatelimitOverride = {
      id: newId('rlor'),
      namespaceId: namespace.id,
      identifier: input.identifier,
      limit: input.limit,
      duration: input.duration,
    }
    const id = await this.stores.transaction(async () => {
      const id = await this.stores.ratelimitNamespaces.upsertOverride(workspaceId, override, this.clock.now())
      await this.audit.record({
        workspaceId,
        event: 'ratelimit.set_override',
        resources: [namespaceResource(namespace), { type: 'ratelimit_override', id, name: input.identifier }],
        description: `Set the override for ${input.identifier} in namespace ${namespace.name} to ${input.limit} per ${input.duration} ms`,
      })
      return id
    })
    this.changed(namespace.id)
    return { ...override, id }
  }

  /** The override that applies to `identifier` (exact first, then wildcards), or 404. */
  async getOverride(workspaceId: string, namespace: string, identifier: string): Promise<RatelimitOverride> {
    const ns = await this.getNamespace(workspaceId, namespace)
    const override = (this.overrideSets.get(ns.id) ?? (await this.loadOverrides(ns.id))).match(identifier)
    if (!override) throw overrideNotFound()
    return override
  }

  /** Overrides of a namespace ordered by id; `cursor` is the first id of the next page. */
  async listOverrides(workspaceId: string, input: { namespace: string } & PageInput): Promise<Page<RatelimitOverride>> {
    const ns = await this.getNamespace(workspaceId, input.namespace)
    const overrides = await this.stores.ratelimitNamespaces.pageOverrides(ns.id, { cursor: input.cursor ?? '', limit: input.limit + 1 })
    return toPage(overrides, input.limit, (o) => o)
  }

  /** Deletes the override with exactly this identifier (no wildcard matching), or 404. */
  async deleteOverride(workspaceId: string, namespace: string, identifier: string): Promise<void> {
    const ns = await this.getNamespace(workspaceId, namespace)
    await this.stores.transaction(async () => {
      const overrideId = await this.stores.ratelimitNamespaces.deleteOverride(ns.id, identifier)
      if (overrideId === null) throw overrideNotFound()
      await this.audit.record({
        workspaceId,
        event: 'ratelimit.delete_override',
        resources: [namespaceResource(ns), { type: 'ratelimit_override', id: overrideId, name: identifier }],
        description: `Deleted the override for ${identifier} in namespace ${ns.name}`,
      })
    })
    this.changed(ns.id)
  }

  /** The cached namespace, or undefined when it has not been looked up yet. */
  private cachedNamespace(workspaceId: string, nameOrId: string): RatelimitNamespace | undefined {
    const id = this.namespaceKeys.get(`${workspaceId}\0${nameOrId}`)
    return id === undefined ? undefined : this.namespacesById.get(id)
  }

  private async loadNamespace(workspaceId: string, nameOrId: string): Promise<RatelimitNamespace | null> {
    const store = this.stores.ratelimitNamespaces
    const generation = this.overrideGeneration
    const found = (nameOrId.startsWith('rlns_') ? await store.findById(workspaceId, nameOrId) : null) ?? (await store.findByName(workspaceId, nameOrId))
    if (!found) return null
    // Another lookup (by the other key) may have cached it meanwhile: keep one shared object.
    const namespace = this.namespacesById.get(found.id) ?? found
    // A change meanwhile (here or on another node) may have made what was read stale: answer with it, keep nothing.
    if (generation !== this.overrideGeneration) return namespace
    this.namespacesById.set(namespace.id, namespace)
    this.namespaceKeys.set(`${workspaceId}\0${nameOrId}`, namespace.id)
    return namespace
  }

  private async createNamespace(workspaceId: string, name: string): Promise<RatelimitNamespace> {
    await this.stores.transaction(async () => {
      // Another request may have created it first; either way it exists afterwards, and only its creator records the event.
      if (await this.stores.ratelimitNamespaces.findByName(workspaceId, name)) return
      const namespace = { id: newId('rlns'), workspaceId, name, createdAt: this.clock.now() }
      await this.stores.ratelimitNamespaces.insertIfAbsent(namespace)
      const resources = [namespaceResource(namespace)]
      await this.audit.record({ workspaceId, event: 'ratelimit.create_namespace', resources, description: `Created ratelimit namespace ${name}` })
    })
    return (await this.findNamespace(workspaceId, name))!
  }

  private async loadOverrides(namespaceId: string): Promise<OverrideSet> {
    const generation = this.overrideGeneration
    const set = new OverrideSet(await this.stores.ratelimitNamespaces.listOverrides(namespaceId))
    if (generation === this.overrideGeneration) this.overrideSets.set(namespaceId, set)
    return set
  }

  private dropOverrides(namespaceId: string): void {
    this.overrideGeneration++
    this.overrideSets.delete(namespaceId)
  }

  /** After a change of a namespace or its overrides made here; in cluster mode every other node forgets them the same way. */
  private changed(namespaceId: string): void {
    this.forgetNamespace(namespaceId)
    this.announceChange?.(namespaceId)
  }

  /** Forgets a namespace and its overrides (changed here or on another node): the next use reads them again. */
  forgetNamespace(namespaceId: string): void {
    this.dropOverrides(namespaceId)
    this.namespacesById.delete(namespaceId)
    for (const [key, id] of this.namespaceKeys) if (id === namespaceId) this.namespaceKeys.delete(key)
  }

  /** Forgets every namespace and override (cluster mode, while changes of other nodes may go unheard). */
  forgetAll(): void {
    this.overrideGeneration++
    this.overrideSets.clear()
    this.namespacesById.clear()
    this.namespaceKeys.clear()
  }
}
