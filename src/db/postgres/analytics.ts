// PostgreSQL side of the analytics query path: the SQL source behind each
// public table alias (as src/db/sqlite/analytics.ts, over the same tables),
// how a compiled query runs (its own small pool, so that a slow query never
// takes a connection the verify path needs; a READ ONLY transaction with
// `SET LOCAL statement_timeout`, which the server enforces by cancelling the
// work), and the pruning of rollups. The query core compiles for this engine
// (dialect 'postgres') and scopes every row to the caller's workspace.
import { SQL } from 'bun'
import { type AnalyticsSourceSql, type AnalyticsStore, type AnalyticsTable, AnalyticsQueryError, type RollupGrain } from '../stores/analytics'
import type { PostgresEngine } from './engine'
import { num } from './values'

type Scope = Parameters<AnalyticsSourceSql>[0]

/** `WHERE workspace_id = … [AND <column> IN (…)]`: the query core filters again around it; this lets PostgreSQL use the indexes. */
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
  `SELECT request_id, time, workspace_id, namespace_id, identifier, passed::int AS passed, latency, override_id, "limit", remaining, reset_at, tokens
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

/** How a failed query is answered: SQLSTATE → reason. */
function reasonOf(error: unknown): AnalyticsQueryError['reason'] {
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  if (errno === '57014') return 'timeout'
  if (errno === '53200' || errno === '54000' || errno === '53100') return 'memory'
  if (typeof errno === 'string') return /^(08|57P|53)/.test(errno) ? 'unavailable' : 'failed'
  // No SQLSTATE: Bun's own error (refused, closed, timed out).
  return typeof code === 'string' && code.startsWith('ERR_POSTGRES_') ? 'unavailable' : 'failed'
}

export class PostgresAnalyticsStore implements AnalyticsStore {
  readonly sources = SOURCES
  readonly dialect = 'postgres'
  private runner: SQL | null = null

  constructor(
    private readonly sql: PostgresEngine,
    private readonly options: { connections?: number } = {},
  ) {}

  async query(query: { sql: string; params: readonly (string | number | null)[] }, timeoutMs: number): Promise<unknown[][]> {
    const deadline = performance.now() + timeoutMs
    await this.sql.ready
    this.runner ??= new SQL(this.sql.url, { max: this.options.connections ?? 2, bigint: true, connectionTimeout: 5 })
    const runner = this.runner
    let timer: ReturnType<typeof setTimeout> | undefined
    const work = runner.begin('READ ONLY', async (tx) => {
      // Waiting for a connection counts against the deadline, as in the SQLite runner's queue.
      const left = Math.floor(deadline - performance.now())
      if (left <= 0) throw Object.assign(new Error('The query did not start within its time limit.'), { errno: '57014' })
      await tx.unsafe(`SET LOCAL statement_timeout = ${left}`)
      return [...(await tx.unsafe(query.sql, query.params as (string | number | null)[]).values())] as unknown[][]
    })
    // The server stops the statement at its timeout; this only covers a server that stopped answering at all.
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('The query did not finish within its time limit.'), { errno: '57014' })), timeoutMs + 2_000)
    })
    try {
      return await Promise.race([work, backstop])
    } catch (error) {
      const reason = reasonOf(error)
      throw new AnalyticsQueryError(reason, reason === 'timeout' ? 'The query did not finish within its time limit.' : (error as Error).message)
    } finally {
      clearTimeout(timer)
      work.catch(() => {})
    }
  }

  /**
   * Walks the workspaces through the primary key (workspace_id, time, …): per
   * workspace, at most the rest of `limit` rows older than `before` go.
   */
  async deleteRollupsBefore(kind: 'verifications' | 'ratelimits', grain: RollupGrain, before: number, limit: number) {
    const table = `${kind === 'verifications' ? 'verification' : 'ratelimit'}_rollups_per_${grain}`
    let removed = 0
    let workspace = ''
    while (removed < limit) {
      const next = await this.sql.get<{ id: string | null }>(`SELECT min(workspace_id) AS id FROM ${table} WHERE workspace_id > $1`, [workspace])
      if (next?.id == null) break
      workspace = next.id
      removed += await this.sql.run(
        `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE workspace_id = $1 AND time < $2 ORDER BY time LIMIT $3)`,
        [workspace, before, limit - removed],
      )
    }
    return num(removed)
  }

  async close(): Promise<void> {
    await this.runner?.close({ timeout: 1 })
  }
}
