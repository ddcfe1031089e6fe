// PostgreSQL store of the workspaces table.
import type { Workspace, WorkspaceStore } from '../stores/workspaces'
import type { PostgresEngine } from './engine'
import { num } from './values'

interface Row {
  id: string
  name: string
  created_at: bigint
}

export class PostgresWorkspaceStore implements WorkspaceStore {
  constructor(private readonly sql: PostgresEngine) {}

  async findByIdOrName(idOrName: string) {
    // An id match wins, as SQLite's rowid order gives in practice for `id = ? OR name = ?`.
    const row = await this.sql.get<Row>('SELECT * FROM workspaces WHERE id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1', [idOrName])
    return row ? { id: row.id, name: row.name, createdAt: num(row.created_at) } : null
  }

  async insert(w: Workspace) {
    await this.sql.run('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)', [w.id, w.name, w.createdAt])
  }
}
