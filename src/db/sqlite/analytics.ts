// SQLite side of the analytics query path: the SQL source behind each public
// table alias (src/db/analytics-sources.ts, over the event and rollup tables
// that src/db/sqlite/analytics-events.ts keeps), how a compiled query is run
// (QueryRunner: a read-only child process, killed at the deadline), and the
// pruning of rollups.
import { analyticsSources } from '../analytics-sources'
import { type AnalyticsStore, AnalyticsQueryError, type RollupGrain } from '../stores/analytics'
import { QueryRunner, type QueryRunnerOptions } from './analytics-runner'
import type { SqliteEngine } from './engine'

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
    // One transaction: `work` may be run again when the lock is busy, and a run of
    // separate statements would count only the deletes of its last try.
    return this.sql.run(() =>
      this.sql.db.transaction(() => {
        let removed = 0
        for (let workspace = next.get('')?.id; workspace !== undefined && removed < limit; workspace = next.get(workspace)?.id) {
          const last = edge.get(workspace, before, limit - removed - 1)
          removed += last ? upTo.run(workspace, last.time).changes : below.run(workspace, before).changes
        }
        return removed
      })(),
    )
  }

  close(): void {
    this.runner?.close()
  }
}
