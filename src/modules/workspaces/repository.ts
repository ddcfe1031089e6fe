// Workspaces: the unit of isolation. Every other row belongs to exactly one.
import type { Database } from '../../db/database'
import { newId } from '../../ids'

export interface Workspace {
  id: string
  name: string
  createdAt: number
}

interface WorkspaceRow {
  id: string
  name: string
  created_at: number
}

const toWorkspace = (r: WorkspaceRow): Workspace => ({ id: r.id, name: r.name, createdAt: r.created_at })

export class WorkspaceRepository {
  private readonly byIdOrName
  private readonly insertRow

  constructor(private readonly db: Database) {
    this.byIdOrName = db.query<WorkspaceRow, [string, string]>('SELECT * FROM workspaces WHERE id = ? OR name = ? LIMIT 1')
    this.insertRow = db.query('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)')
  }

  find(idOrName: string): Workspace | null {
    const row = this.byIdOrName.get(idOrName, idOrName)
    return row ? toWorkspace(row) : null
  }

  create(name: string, now: number): Workspace {
    const ws = { id: newId('ws'), name, createdAt: now }
    this.insertRow.run(ws.id, ws.name, ws.createdAt)
    return ws
  }

  /** Finds a workspace by id or name, creating it (by name) when absent. */
  ensure(idOrName: string, now: number): Workspace {
    return this.find(idOrName) ?? this.create(idOrName, now)
  }
}
