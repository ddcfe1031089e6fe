// The ratelimit_namespaces table (`rlns_…`, named per workspace, soft-deleted)
// and ratelimit_overrides (`rlor_…`, a limit of their own for one identifier
// or `*` pattern of a namespace). Counters are never stored.
export interface RatelimitNamespace {
  id: string
  workspaceId: string
  name: string
  createdAt: number
  deletedAt: number | null
}

/** A live namespace as listings show it. */
export interface RatelimitNamespaceSummary {
  id: string
  name: string
  createdAt: number
  overrideCount: number
}

export interface RatelimitOverride {
  id: string
  namespaceId: string
  identifier: string
  limit: number
  duration: number
}

export interface RatelimitNamespaceStore {
  /** The namespace with this id in this workspace, deleted or not, or null. */
  findById(workspaceId: string, namespaceId: string): Promise<RatelimitNamespace | null>
  /** The namespace with this name in this workspace, deleted or not, or null. */
  findByName(workspaceId: string, name: string): Promise<RatelimitNamespace | null>
  /** Inserts the namespace unless its name is taken in the workspace (a concurrent request may have been first). */
  insertIfAbsent(namespace: Omit<RatelimitNamespace, 'deletedAt'>): Promise<void>
  /** Marks a live namespace deleted. */
  softDelete(namespaceId: string, at: number): Promise<void>
  /**
   * Live namespaces of the workspace ordered by id, from `cursor` (inclusive),
   * at most `limit`, each with its number of overrides; with `ids`, only among those.
   */
  pageLive(workspaceId: string, page: { cursor: string; limit: number; ids?: readonly string[] }): Promise<RatelimitNamespaceSummary[]>

  /** Every override of the namespace. */
  listOverrides(namespaceId: string): Promise<RatelimitOverride[]>
  /** Overrides of the namespace ordered by id, from `cursor` (inclusive), at most `limit`. */
  pageOverrides(namespaceId: string, page: { cursor: string; limit: number }): Promise<RatelimitOverride[]>
  /**
   * Creates the override, or when the namespace already has one for this
   * identifier, rewrites its limit and duration and keeps its id. Returns
   * the id that holds.
   */
  upsertOverride(workspaceId: string, override: RatelimitOverride, at: number): Promise<string>
  /** Deletes the override for exactly this identifier; returns its id, or null when there was none. */
  deleteOverride(namespaceId: string, identifier: string): Promise<string | null>
  /** Deletes every override of the namespace; returns how many there were. */
  deleteOverrides(namespaceId: string): Promise<number>
}
