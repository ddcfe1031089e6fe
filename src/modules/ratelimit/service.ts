// Ratelimit namespaces, overrides and limit decisions.
//
// Namespaces (`rlns_…`, per workspace, addressed by id or name) and overrides
// (`rlor_…`, per namespace and identifier) live in SQLite; both are cached in
// memory so that a warm `limit` call reads no SQLite at all. Every write goes
// through this service, which keeps the caches current. Counters live only in
// the SlidingWindowLimiter: they are not persisted, so a restart gives every
// identifier a fresh allowance.
//
// Override precedence for an identifier: an override whose identifier is
// exactly equal wins; otherwise the most specific matching wildcard override
// (`*` = any run of characters, the whole identifier must match): the one with
// the most literal (non-`*`) characters, then the fewest `*`, then the smallest
// identifier in code-unit order, so the choice never depends on storage order.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { toPage, type Page, type PageInput } from '../../db/pagination'
import { newId } from '../../ids'
import { namespaceGone, notFound } from '../../http/errors'
import { SlidingWindowLimiter, type LimitOutcome } from './limiter'

export interface Namespace {
  id: string
  workspaceId: string
  name: string
  createdAt: number
  deletedAt: number | null
}

export interface Override {
  id: string
  namespaceId: string
  identifier: string
  limit: number
  duration: number
}

export interface LimitInput {
  namespace: string
  identifier: string
  limit: number
  duration: number
  cost?: number
}

export interface LimitResult extends LimitOutcome {
  namespace: string
  identifier: string
  overrideId?: string
}

interface NamespaceRow {
  id: string
  workspace_id: string
  name: string
  created_at: number
  deleted_at: number | null
}

interface OverrideRow {
  id: string
  namespace_id: string
  identifier: string
  limit: number
  duration: number
}

const toNamespace = (r: NamespaceRow): Namespace => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
})

const toOverride = (r: OverrideRow): Override => ({
  id: r.id,
  namespaceId: r.namespace_id,
  identifier: r.identifier,
  limit: r.limit,
  duration: r.duration,
})

export const namespaceNotFound = () => notFound('ratelimit_namespace', 'This namespace does not exist.')
export const overrideNotFound = () => notFound('ratelimit_override', 'This override does not exist.')

/** A `*` pattern split into its literal parts: `a*b*` → ['a', 'b', '']. */
interface Wildcard {
  override: Override
  parts: string[]
}

/** True when `identifier` matches the pattern whose literal parts are `parts` (at least two). */
function matchesWildcard(parts: string[], identifier: string): boolean {
  const first = parts[0]!
  const last = parts[parts.length - 1]!
  if (identifier.length < first.length + last.length) return false
  if (!identifier.startsWith(first) || !identifier.endsWith(last)) return false
  // Leftmost placement of each middle part is optimal when `*` is the only operator.
  let at = first.length
  const end = identifier.length - last.length
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!
    const found = identifier.indexOf(part, at)
    if (found === -1 || found + part.length > end) return false
    at = found + part.length
  }
  return true
}

/** Sorts wildcard overrides most specific first (see the precedence rule at the top). */
function bySpecificity(a: Wildcard, b: Wildcard): number {
  const literalsA = a.override.identifier.length - (a.parts.length - 1)
  const literalsB = b.override.identifier.length - (b.parts.length - 1)
  if (literalsA !== literalsB) return literalsB - literalsA
  if (a.parts.length !== b.parts.length) return a.parts.length - b.parts.length
  return a.override.identifier < b.override.identifier ? -1 : a.override.identifier > b.override.identifier ? 1 : 0
}

/** The overrides of one namespace, prepared for matching. */
class OverrideSet {
  private readonly exact = new Map<string, Override>()
  private readonly wildcards: Wildcard[] = []

  constructor(overrides: Override[]) {
    for (const o of overrides) {
      // A pattern is also an exact identifier: an override `a*` applies first to the identifier `a*` itself.
      this.exact.set(o.identifier, o)
      if (o.identifier.includes('*')) this.wildcards.push({ override: o, parts: o.identifier.split('*') })
    }
    this.wildcards.sort(bySpecificity)
  }

  /** The override that applies to `identifier`, if any. */
  match(identifier: string): Override | undefined {
    const exact = this.exact.get(identifier)
    if (exact) return exact
    for (const w of this.wildcards) {
      if (matchesWildcard(w.parts, identifier)) return w.override
    }
    return undefined
  }
}

export class RatelimitService {
  readonly limiter: SlidingWindowLimiter
  private readonly stmt
  /** Namespaces by id; the objects are shared with `namespaceKeys`. */
  private readonly namespacesById = new Map<string, Namespace>()
  /** `${workspaceId}\0${id or name}` → namespace id, for namespaces found so far. */
  private readonly namespaceKeys = new Map<string, string>()
  private readonly overrideSets = new Map<string, OverrideSet>()

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {
    this.limiter = new SlidingWindowLimiter(clock)
    this.stmt = {
      namespaceById: db.query<NamespaceRow, [string, string]>('SELECT * FROM ratelimit_namespaces WHERE id = ? AND workspace_id = ?'),
      namespaceByName: db.query<NamespaceRow, [string, string]>('SELECT * FROM ratelimit_namespaces WHERE name = ? AND workspace_id = ?'),
      insertNamespace: db.query(
        'INSERT INTO ratelimit_namespaces (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id, name) DO NOTHING',
      ),
      softDeleteNamespace: db.query('UPDATE ratelimit_namespaces SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      overrides: db.query<OverrideRow, [string]>('SELECT id, namespace_id, identifier, "limit", duration FROM ratelimit_overrides WHERE namespace_id = ?'),
      overridePage: db.query<OverrideRow, [string, string, number]>(
        'SELECT id, namespace_id, identifier, "limit", duration FROM ratelimit_overrides WHERE namespace_id = ? AND id >= ? ORDER BY id LIMIT ?',
      ),
      upsertOverride: db.query<{ id: string }, [string, string, string, string, number, number, number]>(
        `INSERT INTO ratelimit_overrides (id, workspace_id, namespace_id, identifier, "limit", duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace_id, identifier) DO UPDATE SET "limit" = excluded."limit", duration = excluded.duration, updated_at = excluded.created_at
         RETURNING id`,
      ),
      deleteOverride: db.query<{ id: string }, [string, string]>('DELETE FROM ratelimit_overrides WHERE namespace_id = ? AND identifier = ? RETURNING id'),
    }
  }

  /**
   * The namespace of this workspace whose id (first) or name is `nameOrId`,
   * including a soft-deleted one; null when there is none. Cached.
   */
  findNamespace(workspaceId: string, nameOrId: string): Namespace | null {
    const cacheKey = `${workspaceId}\0${nameOrId}`
    const cachedId = this.namespaceKeys.get(cacheKey)
    if (cachedId !== undefined) return this.namespacesById.get(cachedId)!
    const row =
      (nameOrId.startsWith('rlns_') ? this.stmt.namespaceById.get(nameOrId, workspaceId) : null) ??
      this.stmt.namespaceByName.get(nameOrId, workspaceId)
    if (!row) return null
    const namespace = this.namespacesById.get(row.id) ?? toNamespace(row)
    this.namespacesById.set(namespace.id, namespace)
    this.namespaceKeys.set(cacheKey, namespace.id)
    return namespace
  }

  /** A live namespace for the override routes: missing or deleted is a 404. */
  liveNamespace(workspaceId: string, nameOrId: string): Namespace {
    const namespace = this.findNamespace(workspaceId, nameOrId)
    if (!namespace || namespace.deletedAt !== null) throw namespaceNotFound()
    return namespace
  }

  /** Soft-deletes a namespace: `limit` answers 410 for it from now on, override routes 404. */
  deleteNamespace(workspaceId: string, namespaceId: string): void {
    const namespace = this.liveNamespace(workspaceId, namespaceId)
    const now = this.clock.now()
    this.stmt.softDeleteNamespace.run(now, namespace.id)
    namespace.deletedAt = now
    this.overrideSets.delete(namespace.id)
  }

  /**
   * Decides a batch of limit requests at one instant, all-or-nothing. Unknown
   * namespaces are created by name (the caller has checked `create_namespace`);
   * a deleted namespace is a 410 before anything is created or counted.
   */
  limit(workspaceId: string, inputs: LimitInput[]): { passed: boolean; results: LimitResult[] } {
    const found = inputs.map((input) => this.findNamespace(workspaceId, input.namespace))
    if (found.some((ns) => ns !== null && ns.deletedAt !== null)) throw namespaceGone()
    const namespaces = found.map((ns, i) => ns ?? this.createNamespace(workspaceId, inputs[i]!.namespace))
    const overrides = inputs.map((input, i) => this.overridesOf(namespaces[i]!.id).match(input.identifier))
    const { passed, outcomes } = this.limiter.limit(
      inputs.map((input, i) => ({
        bucket: `${workspaceId}:${namespaces[i]!.id}`,
        identifier: input.identifier,
        limit: overrides[i]?.limit ?? input.limit,
        duration: overrides[i]?.duration ?? input.duration,
        cost: input.cost ?? 1,
      })),
    )
    const results = outcomes.map((outcome, i): LimitResult => {
      const override = overrides[i]
      return {
        namespace: inputs[i]!.namespace,
        identifier: inputs[i]!.identifier,
        ...outcome,
        ...(override ? { overrideId: override.id } : {}),
      }
    })
    return { passed, results }
  }

  /** Creates or replaces the override for (namespace, identifier); keeps the id on replace. */
  setOverride(workspaceId: string, input: { namespace: string; identifier: string; limit: number; duration: number }): Override {
    const namespace = this.liveNamespace(workspaceId, input.namespace)
    const row = this.stmt.upsertOverride.get(
      newId('rlor'),
      workspaceId,
      namespace.id,
      input.identifier,
      input.limit,
      input.duration,
      this.clock.now(),
    )!
    this.overrideSets.delete(namespace.id)
    return { id: row.id, namespaceId: namespace.id, identifier: input.identifier, limit: input.limit, duration: input.duration }
  }

  /** The override that applies to `identifier` (exact first, then wildcards), or 404. */
  getOverride(workspaceId: string, namespace: string, identifier: string): Override {
    const ns = this.liveNamespace(workspaceId, namespace)
    const override = this.overridesOf(ns.id).match(identifier)
    if (!override) throw overrideNotFound()
    return override
  }

  /** Overrides of a namespace ordered by id; `cursor` is the first id of the next page. */
  listOverrides(workspaceId: string, input: { namespace: string } & PageInput): Page<Override> {
    const ns = this.liveNamespace(workspaceId, input.namespace)
    const rows = this.stmt.overridePage.all(ns.id, input.cursor ?? '', input.limit + 1)
    return toPage(rows, input.limit, toOverride)
  }

  /** Deletes the override with exactly this identifier (no wildcard matching), or 404. */
  deleteOverride(workspaceId: string, namespace: string, identifier: string): void {
    const ns = this.liveNamespace(workspaceId, namespace)
    if (!this.stmt.deleteOverride.get(ns.id, identifier)) throw overrideNotFound()
    this.overrideSets.delete(ns.id)
  }

  private createNamespace(workspaceId: string, name: string): Namespace {
    this.stmt.insertNamespace.run(newId('rlns'), workspaceId, name, this.clock.now())
    // Another request may have created it first; either way the row now exists.
    return this.findNamespace(workspaceId, name)!
  }

  private overridesOf(namespaceId: string): OverrideSet {
    let set = this.overrideSets.get(namespaceId)
    if (!set) {
      set = new OverrideSet(this.stmt.overrides.all(namespaceId).map(toOverride))
      this.overrideSets.set(namespaceId, set)
    }
    return set
  }
}
