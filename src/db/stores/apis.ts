// The apis table: named containers for keys, soft-deleted.
export interface Api {
  id: string
  workspaceId: string
  name: string
  deleteProtection: boolean
  createdAt: number
}

export interface ApiStore {
  insert(api: Api): Promise<void>
  /** The live (not deleted) API with this id in this workspace, or null. */
  findLive(workspaceId: string, apiId: string): Promise<Api | null>
  /** Whether the API exists and is not deleted, in any workspace (for keys whose API may have gone). */
  isLive(apiId: string): Promise<boolean>
  /**
   * Live APIs of the workspace ordered by id, from `cursor` (inclusive), at
   * most `limit`; with `ids`, only among those.
   */
  pageLive(workspaceId: string, page: { cursor: string; limit: number; ids?: readonly string[] }): Promise<Api[]>
  setDeleteProtection(workspaceId: string, apiId: string, enabled: boolean): Promise<void>
  rename(workspaceId: string, apiId: string, name: string): Promise<void>
  softDelete(apiId: string, at: number): Promise<void>
}
