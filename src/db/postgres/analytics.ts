// PostgreSQL side of the analytics query path: the SQL source behind each
// public table alias (src/db/analytics-sources.ts, shared with SQLite),
// how a compiled query runs (its own small pool, so that a slow query never
// takes a connection the verify path needs; a READ ONLY transaction with
// `SET LOCAL statement_timeout`, which the server enforces by cancelling the
// work), and the pruning of rollups. The query core compiles for this engine
// (dialect 'postgres') and scopes every row to the caller's workspace.
import { SQL } from 'bun'
import { analyticsSources } from '../analytics-sources'
import { type AnalyticsStore, AnalyticsQueryError, type RollupGrain } from '../stores/analytics'
import type { PostgresEngine } from './engine'
import { num } from './values'

const SOURCES = analyticsSources({ passed: 'passed::int AS passed' })

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
