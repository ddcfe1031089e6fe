// SQLite store of the apis table.
import type { Api, ApiStore } from '../stores/apis'
import type { SqliteEngine } from './engine'

interface Row {
  id: string
  workspace_id: string
  name: string
  delete_protection: number
  created_at: number
  deleted_at: number | null
}

const toApi = (r: Row): Api => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  deleteProtection: r.delete_protection === 1,
  createdAt: r.created_at,
})

export class SqliteApiStore implements ApiStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      insert: sql.prepare('INSERT INTO apis (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)'),
      live: sql.prepare<Row, [string, string]>('SELECT * FROM apis WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL'),
      isLive: sql.prepare<{ id: string }, [string]>('SELECT id FROM apis WHERE id = ? AND deleted_at IS NULL'),
      softDelete: sql.prepare('UPDATE apis SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      setProtection: sql.prepare('UPDATE apis SET delete_protection = ? WHERE id = ? AND workspace_id = ?'),
      rename: sql.prepare('UPDATE apis SET name = ? WHERE id = ? AND workspace_id = ?'),
      page: sql.prepare<Row, [string, string, number]>('SELECT * FROM apis WHERE workspace_id = ? AND deleted_at IS NULL AND id >= ? ORDER BY id LIMIT ?'),
      // The same, among the ids given as a JSON array (looked up by primary key).
      pageOfIds: sql.prepare<Row, [string, string, number, string]>(
        `SELECT * FROM apis WHERE id IN (SELECT value FROM json_each(?4)) AND workspace_id = ?1 AND deleted_at IS NULL AND id >= ?2
         ORDER BY id LIMIT ?3`,
      ),
    }
  }

  async insert(api: Api) {
    await this.sql.run(() => this.stmt.insert.run(api.id, api.workspaceId, api.name, api.createdAt))
  }

  findLive(workspaceId: string, apiId: string) {
    return this.sql.run(() => {
      const row = this.stmt.live.get(apiId, workspaceId)
      return row ? toApi(row) : null
    })
  }

  isLive(apiId: string) {
    return this.sql.run(() => this.stmt.isLive.get(apiId) !== null)
  }

  pageLive(workspaceId: string, page: { cursor: string; limit: number; ids?: readonly string[] }) {
    return this.sql.run(() =>
      (page.ids === undefined
        ? this.stmt.page.all(workspaceId, page.cursor, page.limit)
        : this.stmt.pageOfIds.all(workspaceId, page.cursor, page.limit, JSON.stringify(page.ids))
      ).map(toApi),
    )
  }

  async rename(workspaceId: string, apiId: string, name: string) {
    await this.sql.run(() => this.stmt.rename.run(name, apiId, workspaceId))
  }

  async setDeleteProtection(workspaceId: string, apiId: string, enabled: boolean) {
    await this.sql.run(() => this.stmt.setProtection.run(enabled ? 1 : 0, apiId, workspaceId))
  }

  async softDelete(apiId: string, at: number) {
    await this.sql.run(() => this.stmt.softDelete.run(at, apiId))
  }
}
