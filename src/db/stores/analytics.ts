// What analytics persists and reads: verification and ratelimit events (one
// row per verifyKey call or limit decision, written in batches together with
// their per-minute/hour/day/month rollups), and the read-only query path that
// answers analytics.getVerifications / getRatelimits. The engine supplies one
// SQL source per public table alias; the query core (src/modules/analytics/
// query/) wraps them, so a source never decides what a caller may see.

/** One verification outcome (a row of `key_verifications_v1`). */
export interface VerificationEvent {
  /** The verifyKey request's id ('' for events recorded before request ids were kept). */
  requestId: string
  time: number
  workspaceId: string
  /** The key's API (`key_space_id`); null when the key was not found. */
  apiId: string | null
  keyId: string | null
  identityId: string | null
  /** The identity's external id at verification time. */
  externalId: string | null
  outcome: string
  tags: string[]
  creditsSpent: number
  /** Time spent deciding, in ms. */
  latency: number
}

/** One ratelimit decision (a row of `ratelimits_v1`). */
export interface RatelimitEvent {
  requestId: string
  time: number
  workspaceId: string
  /** The namespace (`rlns_…`), or for a key or identity limit checked by verifyKey the limit's id (`rl_…`). */
  namespaceId: string
  identifier: string
  passed: boolean
  latency: number
  overrideId: string | null
  limit: number
  remaining: number
  resetAt: number
  /** The request's cost. */
  tokens: number
}

/** Raw events of one kind; `insertMany` also brings the kind's rollups up to date, in the same transaction. */
export interface EventStore<E> {
  insertMany(events: E[]): Promise<void>
  /** Deletes up to `limit` raw events older than `before` (unix ms); returns how many. */
  deleteBefore(before: number, limit: number): Promise<number>
}

export type VerificationEventStore = EventStore<VerificationEvent>
export type RatelimitEventStore = EventStore<RatelimitEvent>

/**
 * Where batches of events are written: one call per batch, each in its own
 * transaction(s) with what goes beside it (a batch of verifications carries
 * its keys' last-used times). Every engine can write through its own stores
 * (src/db/event-writer.ts); the SQLite server writes on a thread of its own.
 */
export interface EventWriter {
  // A batch that failed after part of it committed rejects with PartialBatchError.
  writeVerifications(events: VerificationEvent[], lastUsed: [keyId: string, at: number][]): Promise<void>
  writeRatelimits(events: RatelimitEvent[]): Promise<void>
  /** Settles when the rollups of every batch written so far are written too (a writer may hold them back briefly). */
  settle(): Promise<void>
}

/** A batch of events failed after its first `written` events had committed: only the rest is to be written again. */
export class PartialBatchError extends Error {
  constructor(
    message: string,
    readonly written: number,
  ) {
    super(message)
    this.name = 'PartialBatchError'
  }
}

export type RollupGrain = 'minute' | 'hour' | 'day' | 'month'
export const ROLLUP_GRAINS: readonly RollupGrain[] = ['minute', 'hour', 'day', 'month']

/** The public table aliases (the query core's TableAlias, spelled out so that stores import nothing from modules). */
export type AnalyticsTable = `key_verifications${'' | `_per_${RollupGrain}`}_v1` | `ratelimits${'' | `_per_${RollupGrain}`}_v1`

/**
 * The SQL of one alias: a SELECT with exactly the alias's public columns
 * (`time` in unix ms, `tags` as JSON array text, booleans 0/1, missing ids '').
 * `scope` holds parameter references (the caller's workspace, and the granted
 * API or namespace ids as an `IN (...)` list or null for all) to narrow early.
 */
export type AnalyticsSourceSql = (scope: { workspace: string; resources: string | null }) => string

/** Why a query did not produce rows; the analytics service turns each into its public error. */
export class AnalyticsQueryError extends Error {
  constructor(
    readonly reason: 'timeout' | 'memory' | 'failed' | 'unavailable',
    message: string,
  ) {
    super(message)
    this.name = 'AnalyticsQueryError'
  }
}

export interface AnalyticsStore {
  readonly sources: Record<AnalyticsTable, AnalyticsSourceSql>
  /** The SQL the query core must compile to (default 'sqlite'). */
  readonly dialect?: 'sqlite' | 'postgres'
  /**
   * Runs one compiled SELECT read-only and returns its rows as value arrays,
   * or rejects with an AnalyticsQueryError: 'timeout' once `timeoutMs` has
   * passed (the work is stopped, not abandoned), 'memory', 'failed' (the
   * engine refused or failed the SQL), 'unavailable'.
   */
  query(query: { sql: string; params: readonly (string | number | null)[] }, timeoutMs: number): Promise<unknown[][]>
  /** Deletes up to `limit` rollup rows of `kind` and `grain` whose bucket starts before `before`; returns how many. */
  deleteRollupsBefore(kind: 'verifications' | 'ratelimits', grain: RollupGrain, before: number, limit: number): Promise<number>
}
