// The root_keys table: the credentials that authenticate management calls.
// Only the SHA-256 hash of a key is stored, never its plaintext.
export interface RootKey {
  id: string
  workspaceId: string
  name: string
  hash: string
  /** The first characters of the plaintext, shown in listings. */
  start: string
  permissions: string[]
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  lastUsedAt: number | null
  /** Created by `latch seed` (which replaces only its own keys). */
  seeded: boolean
}

export interface RootKeyStore {
  /** Stores a new key (revokedAt and lastUsedAt start empty). */
  insert(key: RootKey): Promise<void>
  findById(id: string): Promise<RootKey | null>
  findByHash(hash: string): Promise<RootKey | null>
  /** The hashes of stored keys (revoked and expired included), at most `limit`. */
  listHashes(limit: number): Promise<string[]>
  /** Every key of the workspace, oldest first (ties by id). */
  listByWorkspace(workspaceId: string): Promise<RootKey[]>
  /** Keys of the workspace (revoked and expired included) ordered by id, from `cursor` (inclusive), at most `limit`. */
  pageByWorkspace(workspaceId: string, page: { cursor: string; limit: number }): Promise<RootKey[]>
  /** The workspace's seeded keys that are not revoked (expired ones included). */
  listSeeded(workspaceId: string): Promise<RootKey[]>
  /** Revokes the key at `at`; false when it does not exist or was already revoked. */
  revoke(id: string, at: number): Promise<boolean>
  /** Makes the key expire at `at`, unless it already expires earlier. */
  expireBy(id: string, at: number): Promise<void>
  /** Records last-used times (id → time) in one batch; a time never moves back. */
  recordUse(uses: Iterable<readonly [id: string, at: number]>): Promise<void>
}
