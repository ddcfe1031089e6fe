// PostgreSQL store of the apis table. Inside a transaction, `findLive` locks
// the row it finds until the end: the rules that read an API and then change
// it (delete protection checked, then the delete) hold under READ COMMITTED
// (engine.ts), one change of an API at a time, each seeing the last.
import type { Api, ApiStore } from '../stores/apis'
import type { PostgresEngine } from './engine'
import { num } from './values'

interface Row {
  id: string
  workspace_id: string
  name: string
  delete_protection: boolean
  created_at: bigint
}

const toApi = (r: Row): Api => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  deleteProtection: r.delete_protection,
  createdAt: num(r.created_at),
})

export class PostgresApiStore implements ApiStore {
  constructor(private readonly sql: PostgresEngine) {}

  async insert(api: Api) {
    await this.sql.run('INSERT INTO apis (id, workspace_id, name, created_at) VALUES ($1, $2, $3, $4)', [api.id, api.workspaceId, api.name, api.createdAt])
  }

  async findLive(workspaceId: string, apiId: string) {
    const lock = this.sql.inTransaction ? ' FOR NO KEY UPDATE' : ''
    const row = await this.sql.get<Row>(`SELECT * FROM apis WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL${lock}`, [apiId, workspaceId])
    return row ? toApi(row) : null
  }

  async isLive(apiId: string) {
    return (await this.sql.get('SELECT id FROM apis WHERE id = $1 AND deleted_at IS NULL', [apiId])) !== null
  }

  async pageLive(workspaceId: string, page: { cursor: string; limit: number; ids?: readonly string[] }) {
    const rows =
      page.ids === undefined
        ? await this.sql.all<Row>('SELECT * FROM apis WHERE workspace_id = $1 AND deleted_at IS NULL AND id >= $2 ORDER BY id LIMIT $3', [
            workspaceId,
            page.cursor,
            page.limit,
          ])
        : // The same, among the ids given as a JSON array (looked up by primary key).
          await this.sql.all<Row>(
            `SELECT * FROM apis WHERE id IN (SELECT json_array_elements_text($4::text::json)) AND workspace_id = $1 AND deleted_at IS NULL AND id >= $2
             ORDER BY id LIMIT $3`,
            [workspaceId, page.cursor, page.limit, JSON.stringify(page.ids)],
          )
    return rows.map(toApi)
  }

  async rename(workspaceId: string, apiId: string, name: string) {
    await this.sql.run('UPDATE apis SET name = $1 WHERE id = $2 AND workspace_id = $3', [name, apiId, workspaceId])
  }

  async setDeleteProtection(workspaceId: string, apiId: string, enabled: boolean) {
    await this.sql.run('UPDATE apis SET delete_protection = $1 WHERE id = $2 AND workspace_id = $3', [enabled, apiId, workspaceId])
  }

  async softDelete(apiId: string, at: number) {
    await this.sql.run('UPDATE apis SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL', [at, apiId])
  }
}
