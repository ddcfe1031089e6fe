// SQLite side of the analytics query path: the SQL source behind each public
// table alias (key_verifications_v1 and ratelimits_v1 over the raw event
// tables, their _per_minute/hour/day/month_v1 over the rollup tables that
// src/db/sqlite/analytics-events.ts keeps), how a compiled query is run
// (QueryRunner: a read-only child process, killed at the deadline), and the
// pruning of rollups. Columns latch does not track get Unkey's documented
// defaults: region 'local', source 'api', app_id ''.
import { type AnalyticsSourceSql, type AnalyticsStore, type AnalyticsTable, AnalyticsQueryError, type RollupGrain } from '../stores/analytics'
import { QueryRunner, type QueryRunnerOptions } from './analytics-runner'
import type { SqliteEngine } from './engine'

type Scope = Parameters<AnalyticsSourceSql>[0]

/** `WHERE workspace_id = … [AND <column> IN (…)]`: the query core filters again around it; this lets SQLite use the indexes. */
const where = (scope: Scope, column: string) =>
  `WHERE workspace_id = ${scope.workspace}${scope.resources === null ? '' : ` AND ${column} IN (${scope.resources})`}`

const RAW_VERIFICATIONS: AnalyticsSourceSql = (scope) =>
  `SELECT request_id, time, workspace_id, coalesce(api_id, '') AS key_space_id, coalesce(identity_id, '') AS identity_id, external_id,
   coalesce(key_id, '') AS key_id, 'local' AS region, 'api' AS source, '' AS app_id, outcome, coalesce(tags, '[]') AS tags,
   credits_spent AS spent_credits, latency FROM verification_events ${where(scope, 'api_id')}`

const verificationRollup =
  (grain: RollupGrain): AnalyticsSourceSql =>
  (scope) =>
    `SELECT time, workspace_id, key_space_id, identity_id, external_id, key_id, outcome, 'api' AS source, '' AS app_id, tags, count, spent_credits
     FROM verification_rollups_per_${grain} ${where(scope, 'key_space_id')}`

const RAW_RATELIMITS: AnalyticsSourceSql = (scope) =>
  `SELECT request_id, time, workspace_id, namespace_id, identifier, passed, latency, override_id, "limit", remaining, reset_at, tokens
   FROM ratelimit_events ${where(scope, 'namespace_id')}`

const ratelimitRollup =
  (grain: RollupGrain): AnalyticsSourceSql =>
  (scope) =>
    `SELECT time, workspace_id, namespace_id, identifier, passed, total, total_tokens, passed_tokens
     FROM ratelimit_rollups_per_${grain} ${where(scope, 'namespace_id')}`

const SOURCES: Record<AnalyticsTable, AnalyticsSourceSql> = {
  key_verifications_v1: RAW_VERIFICATIONS,
  key_verifications_per_minute_v1: verificationRollup('minute'),
  key_verifications_per_hour_v1: verificationRollup('hour'),
  key_verifications_per_day_v1: verificationRollup('day'),
  key_verifications_per_month_v1: verificationRollup('month'),
  ratelimits_v1: RAW_RATELIMITS,
  ratelimits_per_minute_v1: ratelimitRollup('minute'),
  ratelimits_per_hour_v1: ratelimitRollup('hour'),
  ratelimits_per_day_v1: ratelimitRollup('day'),
  ratelimits_per_month_v1: ratelimitRollup('month'),
}

export type AnalyticsRunnerOptions = Omit<QueryRunnerOptions, 'path'>

export class SqliteAnalyticsStore implements AnalyticsStore {
  readonly sources = SOURCES
  /** Null for an in-memory database: no other connection can see it, so queries run on the shared one (no deadline). */
  private readonly runner: QueryRunner | null

  constructor(
    private readonly sql: SqliteEngine,
    path: string | undefined,
    options: AnalyticsRunnerOptions = {},
  ) {
    this.runner = path && path !== ':memory:' ? new QueryRunner({ ...options, path }) : null
  }

  query(query: { sql: string; params: readonly (string | number | null)[] }, timeoutMs: number): Promise<unknown[][]> {
    if (this.runner) return this.runner.run(query.sql, query.params, timeoutMs)
    return this.sql.run(() => {
      const statement = this.sql.db.prepare(query.sql)
      try {
        return statement.values(...(query.params as (string | number | null)[])) as unknown[][]
      } catch (error) {
        const code = (error as { code?: string }).code
        throw new AnalyticsQueryError(code === 'SQLITE_NOMEM' ? 'memory' : 'failed', (error as Error).message)
      } finally {
        statement.finalize()
      }
    })
  }

  /**
   * Walks the workspaces through the primary key (workspace_id, time, …): per
   * workspace, the time of its `limit`-th oldest row bounds a range delete. A
   * slice may pass `limit` by the rows that share that bucket.
   */
  deleteRollupsBefore(kind: 'verifications' | 'ratelimits', grain: RollupGrain, before: number, limit: number) {
    const table = `${kind === 'verifications' ? 'verification' : 'ratelimit'}_rollups_per_${grain}`
    const next = this.sql.prepare<{ id: string }, [string]>(`SELECT workspace_id AS id FROM ${table} WHERE workspace_id > ? ORDER BY workspace_id LIMIT 1`)
    const edge = this.sql.prepare<{ time: number }, [string, number, number]>(
      `SELECT time FROM ${table} WHERE workspace_id = ? AND time < ? ORDER BY time LIMIT 1 OFFSET ?`,
    )
    const upTo = this.sql.prepare<unknown, [string, number]>(`DELETE FROM ${table} WHERE workspace_id = ? AND time <= ?`)
    const below = this.sql.prepare<unknown, [string, number]>(`DELETE FROM ${table} WHERE workspace_id = ? AND time < ?`)
    return this.sql.run(() => {
      let removed = 0
      for (let workspace = next.get('')?.id; workspace !== undefined && removed < limit; workspace = next.get(workspace)?.id) {
        const last = edge.get(workspace, before, limit - removed - 1)
        removed += last ? upTo.run(workspace, last.time).changes : below.run(workspace, before).changes
      }
      return removed
    })
  }

  close(): void {
    this.runner?.close()
  }
}
