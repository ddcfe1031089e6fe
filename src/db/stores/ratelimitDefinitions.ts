// The ratelimits table: named limits ({ id rl_…, name, limit, duration,
// autoApply }) owned by exactly one key or one identity, names unique per
// owner. Counting against them happens in memory (src/modules/ratelimit/limiter.ts).
export interface RatelimitDefinition {
  id: string
  name: string
  limit: number
  duration: number
  autoApply: boolean
}

export type RatelimitOwner = { keyId: string } | { identityId: string }

/** What `save` changes in one owner's set. */
export interface RatelimitChanges {
  insert: RatelimitDefinition[]
  /** Rewrites limit, duration and autoApply of these ids. */
  update: RatelimitDefinition[]
  /** Ids to delete. */
  remove: string[]
}

export interface RatelimitDefinitionStore {
  /** The owner's definitions ordered by name. */
  list(owner: RatelimitOwner): Promise<RatelimitDefinition[]>
  /** Applies the changes to the owner's set, all or none; inserted rows are created `at`. */
  save(workspaceId: string, owner: RatelimitOwner, changes: RatelimitChanges, at: number): Promise<void>
  /** Deletes every definition of the owner. */
  removeAll(owner: RatelimitOwner): Promise<void>
}
