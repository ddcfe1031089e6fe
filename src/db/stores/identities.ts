// The identities table: the end users (or organisations) that several keys
// belong to. Deleting is soft (`deleted_at`), so that the externalId becomes
// free again while the row stays; "live" below means not deleted.
export interface IdentityRecord {
  id: string
  workspaceId: string
  externalId: string
  /** JSON text, as stored. */
  meta: string | null
  createdAt: number
  updatedAt: number | null
}

export type NewIdentityRecord = Omit<IdentityRecord, 'updatedAt'>

export interface IdentityStore {
  insert(identity: NewIdentityRecord): Promise<void>
  /** The live identity with this id in this workspace, or null. */
  findLive(workspaceId: string, identityId: string): Promise<IdentityRecord | null>
  /** The live identity with this externalId in this workspace (at most one), or null. */
  findLiveByExternalId(workspaceId: string, externalId: string): Promise<IdentityRecord | null>
  /**
   * Live identities of a workspace ordered by id, from `cursor` (inclusive),
   * at most `limit`; with a `search`, only those whose id or externalId
   * contains it (case-insensitive); with `ids`, only those (nothing else is
   * even searched).
   */
  listLive(workspaceId: string, page: { cursor: string; limit: number; search: string; ids?: readonly string[] }): Promise<IdentityRecord[]>
  /** Sets `updated_at`, and the meta (JSON text) when given. */
  update(identityId: string, patch: { meta?: string; updatedAt: number }): Promise<void>
  softDelete(identityId: string, at: number): Promise<void>
}
