// SQLite side of the analytics query path: the SQL source behind each public
// table alias (src/db/analytics-sources.ts, over the event and rollup tables
// that src/db/sqlite/analytics-events.ts keeps), how a compiled query is run
// (QueryRunner: a read-only child process, killed at the deadline), and the
// pruning of rollups.
import { analyticsSources } from '../analytics-sources'
import { type AnalyticsStore, AnalyticsQueryError, type RollupGrain } from '../stores/analytics'
import { QueryRunner, type QueryRunnerOptions } from './analytics-runner'
import type { SqliteEngine } from './engine'
import { WorkspacePrune } from './workspace-prune'

const SOURCES = analyticsSources({ passed: 'passed' })

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

  /** One walk per rollup table, each keeping its place between the slices of a prune. */
  private readonly prunes = new Map<string, WorkspacePrune>()

  /**
   * Workspace by workspace through the primary key (workspace_id, time, …)
   * (./workspace-prune.ts): per workspace, the time of its `left`-th oldest row
   * bounds a range delete. A slice may pass `limit` by the rows that share
   * that bucket.
   */
  deleteRollupsBefore(kind: 'verifications' | 'ratelimits', grain: RollupGrain, before: number, limit: number) {
    const table = `${kind === 'verifications' ? 'verification' : 'ratelimit'}_rollups_per_${grain}`
    const edge = this.sql.prepare<{ time: number }, [string, number, number]>(
      `SELECT time FROM ${table} WHERE workspace_id = ? AND time < ? ORDER BY time LIMIT 1 OFFSET ?`,
    )
    const upTo = this.sql.prepare<unknown, [string, number]>(`DELETE FROM ${table} WHERE workspace_id = ? AND time <= ?`)
    const below = this.sql.prepare<unknown, [string, number]>(`DELETE FROM ${table} WHERE workspace_id = ? AND time < ?`)
    let prune = this.prunes.get(table)
    if (!prune) {
      prune = new WorkspacePrune(this.sql, table)
      this.prunes.set(table, prune)
    }
    return prune.slice(limit, (workspace, left) => {
      const last = edge.get(workspace, before, left - 1)
      return last ? upTo.run(workspace, last.time).changes : below.run(workspace, before).changes
    })
  }

  close(): void {
    this.runner?.close()
  }
}
