// SQLite store of the workspaces table.
import type { Workspace, WorkspaceStore } from '../stores/workspaces'
import type { SqliteEngine } from './engine'

interface Row {
  id: string
  name: string
  created_at: number
}

const toWorkspace = (r: Row): Workspace => ({ id: r.id, name: r.name, createdAt: r.created_at })

export class SqliteWorkspaceStore implements WorkspaceStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      byIdOrName: sql.prepare<Row, [string, string]>('SELECT * FROM workspaces WHERE id = ? OR name = ? LIMIT 1'),
      insert: sql.prepare('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)'),
    }
  }

  findByIdOrName(idOrName: string) {
    return this.sql.run(() => {
      const row = this.stmt.byIdOrName.get(idOrName, idOrName)
      return row ? toWorkspace(row) : null
    })
  }

  async insert(w: Workspace) {
    await this.sql.run(() => this.stmt.insert.run(w.id, w.name, w.createdAt))
  }
}
