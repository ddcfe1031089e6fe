// Identities: an end user (or org) that several keys belong to, addressed by
// its id (`id_…`) or by the caller's own externalId (unique per workspace among
// live identities). Keys link to identities; ratelimits can hang off either.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { newId } from '../../ids'

export interface Identity {
  id: string
  workspaceId: string
  externalId: string
  meta: Record<string, unknown> | null
  createdAt: number
  updatedAt: number | null
}

interface IdentityRow {
  id: string
  workspace_id: string
  external_id: string
  meta: string | null
  created_at: number
  updated_at: number | null
}

export const toIdentity = (r: IdentityRow): Identity => ({
  id: r.id,
  workspaceId: r.workspace_id,
  externalId: r.external_id,
  meta: r.meta === null ? null : JSON.parse(r.meta),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export class IdentityService {
  private readonly changeListeners: ((workspaceId: string) => void)[] = []

  /** Registers a listener told about every change that can alter what a key verifies as (the key cache). */
  onChange(listener: (workspaceId: string) => void): void {
    this.changeListeners.push(listener)
  }

  /** Call after every mutation of this service's data in `workspaceId`. */
  protected changed(workspaceId: string): void {
    for (const listener of this.changeListeners) listener(workspaceId)
  }

  protected readonly stmt

  constructor(
    protected readonly db: Database,
    protected readonly clock: Clock,
  ) {
    this.stmt = {
      byId: db.query<IdentityRow, [string, string]>('SELECT * FROM identities WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL'),
      byExternalId: db.query<IdentityRow, [string, string]>(
        'SELECT * FROM identities WHERE external_id = ? AND workspace_id = ? AND deleted_at IS NULL',
      ),
      insert: db.query('INSERT INTO identities (id, workspace_id, external_id, meta, created_at) VALUES (?, ?, ?, ?, ?)'),
    }
  }

  /** The live identity with this id or externalId in the workspace (id wins), or null. */
  find(workspaceId: string, idOrExternalId: string): Identity | null {
    const row = this.stmt.byId.get(idOrExternalId, workspaceId) ?? this.stmt.byExternalId.get(idOrExternalId, workspaceId)
    return row ? toIdentity(row) : null
  }

  findByExternalId(workspaceId: string, externalId: string): Identity | null {
    const row = this.stmt.byExternalId.get(externalId, workspaceId)
    return row ? toIdentity(row) : null
  }

  /** Inserts a new identity. The caller checks uniqueness of externalId (and runs the transaction). */
  insert(workspaceId: string, externalId: string, meta: Record<string, unknown> | null): Identity {
    const identity: Identity = { id: newId('id'), workspaceId, externalId, meta, createdAt: this.clock.now(), updatedAt: null }
    this.stmt.insert.run(identity.id, workspaceId, externalId, meta === null ? null : JSON.stringify(meta), identity.createdAt)
    return identity
  }

  /** The live identity with this externalId, created (with no meta) when absent. Run inside a transaction. */
  upsertByExternalId(workspaceId: string, externalId: string): Identity {
    return this.findByExternalId(workspaceId, externalId) ?? this.insert(workspaceId, externalId, null)
  }
}
