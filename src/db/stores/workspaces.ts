// The workspaces table: the unit of isolation. Every other row belongs to exactly one.
export interface Workspace {
  id: string
  name: string
  createdAt: number
}

export interface WorkspaceStore {
  /** The workspace with this id, or else with this name, or null. */
  findByIdOrName(idOrName: string): Promise<Workspace | null>
  insert(workspace: Workspace): Promise<void>
}
