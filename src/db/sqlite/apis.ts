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

  async setDeleteProtection(workspaceId: string, apiId: string, enabled: boolean) {
    await this.sql.run(() => this.stmt.setProtection.run(enabled ? 1 : 0, apiId, workspaceId))
  }

  async softDelete(apiId: string, at: number) {
    await this.sql.run(() => this.stmt.softDelete.run(at, apiId))
  }
}
