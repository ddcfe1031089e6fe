// Retention of a table keyed (workspace_id, time, ...): workspace by
// workspace through that index, as the raw event tables (which have no index
// on time alone, migration 16) and the rollup tables are pruned. The
// workspaces are found by seeking past the last one, a lookup each. A call
// goes on from where the one before stopped, so a prune of many slices visits
// each workspace once (restarting at the first made it quadratic: 8,000
// workspaces with old rows took 332,081 seeks and 4.6 s). Every
// WORKSPACES_PER_TURN workspaces are one transaction, and the event loop turns
// between them.
import { nextTurn, type SqliteEngine } from './engine'

/** Workspaces a prune visits between two turns of the event loop (a seek and a delete each, some 8 µs). */
const WORKSPACES_PER_TURN = 64

export class WorkspacePrune {
  private readonly nextWorkspace
  /** The last workspace whose old rows the prune in progress deleted ('' before the first). */
  private pruned = ''

  constructor(
    private readonly sql: SqliteEngine,
    table: string,
  ) {
    this.nextWorkspace = sql.prepare<{ workspace_id: string }, [string]>(
      `SELECT workspace_id FROM ${table} WHERE workspace_id > ? ORDER BY workspace_id LIMIT 1`,
    )
  }

  /**
   * Deletes up to about `limit` rows, `deleteIn(workspace, left)` in each workspace in turn (it
   * returns how many it deleted, and may pass `left`); returns how many went. Fewer than `limit`:
   * every workspace was visited.
   */
  async slice(limit: number, deleteIn: (workspace: string, left: number) => number): Promise<number> {
    let removed = 0
    for (let done = false; !done && removed < limit; ) {
      if (removed > 0) await nextTurn()
      // A turn's workspaces in one transaction: one commit and one sync of the log, where a delete
      // each on its own synced it once per workspace (8,000 workspaces: 1.6 s against 75 ms).
      let cursor = this.pruned
      removed += await this.sql.transaction(async () => {
        let deleted = 0
        for (let visited = 0; visited < WORKSPACES_PER_TURN && removed + deleted < limit; visited++) {
          const row = await this.sql.read(() => this.nextWorkspace.get(cursor))
          if (!row) {
            cursor = ''
            done = true
            break
          }
          deleted += await this.sql.run(() => deleteIn(row.workspace_id, limit - removed - deleted))
          // At the limit this workspace may hold more: the next call starts with it.
          if (removed + deleted < limit) cursor = row.workspace_id
        }
        return deleted
      })
      // Only once committed: a transaction that failed deleted nothing, and its workspaces are visited again.
      this.pruned = cursor
    }
    return removed
  }
}
