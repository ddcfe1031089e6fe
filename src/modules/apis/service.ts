// APIs: named containers for keys. Every lookup is scoped to a workspace;
// a deleted API (or one of another workspace) is indistinguishable from a
// missing one.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { newId } from '../../ids'
import { notFound, protectedResource } from '../../http/errors'

export interface Api {
  id: string
  workspaceId: string
  name: string
  deleteProtection: boolean
  createdAt: number
}

interface ApiRow {
  id: string
  workspace_id: string
  name: string
  delete_protection: number
  created_at: number
  deleted_at: number | null
}

const toApi = (r: ApiRow): Api => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  deleteProtection: r.delete_protection === 1,
  createdAt: r.created_at,
})

export const apiNotFound = () => notFound('api', 'The requested API does not exist or has been deleted.')

type ApiDeletedListener = (api: Api) => void

export class ApiService {
  private readonly stmt
  private readonly deletedListeners: ApiDeletedListener[] = []

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {
    this.stmt = {
      insert: db.query('INSERT INTO apis (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)'),
      live: db.query<ApiRow, [string, string]>('SELECT * FROM apis WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL'),
      softDelete: db.query('UPDATE apis SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      setProtection: db.query('UPDATE apis SET delete_protection = ? WHERE id = ? AND workspace_id = ?'),
    }
  }

  /** Called after an API is deleted (the key cache listens, so its keys stop verifying at once). */
  onDeleted(listener: ApiDeletedListener): void {
    this.deletedListeners.push(listener)
  }

  create(workspaceId: string, name: string): Api {
    const api: Api = { id: newId('api'), workspaceId, name, deleteProtection: false, createdAt: this.clock.now() }
    this.stmt.insert.run(api.id, workspaceId, name, api.createdAt)
    return api
  }

  /** The live API with this id in this workspace, or null. */
  find(workspaceId: string, apiId: string): Api | null {
    const row = this.stmt.live.get(apiId, workspaceId)
    return row ? toApi(row) : null
  }

  /** Like find, but a missing API is a 404. */
  get(workspaceId: string, apiId: string): Api {
    const api = this.find(workspaceId, apiId)
    if (!api) throw apiNotFound()
    return api
  }

  setDeleteProtection(workspaceId: string, apiId: string, enabled: boolean): void {
    this.stmt.setProtection.run(enabled ? 1 : 0, apiId, workspaceId)
  }

  /** Soft-deletes the API; its keys stop verifying immediately. */
  delete(workspaceId: string, apiId: string): void {
    const api = this.get(workspaceId, apiId)
    if (api.deleteProtection) {
      throw protectedResource('This API has delete protection enabled. Disable it before attempting to delete.')
    }
    this.stmt.softDelete.run(this.clock.now(), api.id)
    for (const listener of this.deletedListeners) listener(api)
  }
}
