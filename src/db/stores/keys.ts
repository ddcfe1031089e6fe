// The keys table (keys issued to our users' customers, stored by hash) and
// key_migrations (imports of keys hashed by another system). Deleted keys stay
// as rows with `deletedAt` until deleted permanently; "live" below means not
// deleted (whether the key's API is live is the apis store's to say).
export interface KeyRecord {
  id: string
  workspaceId: string
  apiId: string
  hash: string
  start: string
  name: string | null
  /** JSON text, as stored. */
  meta: string | null
  identityId: string | null
  enabled: boolean
  expiresAt: number | null
  remaining: number | null
  refillAmount: number | null
  /** Day of the month of a monthly refill; null for daily. */
  refillDay: number | null
  lastRefillAt: number | null
  /** AES-GCM copy of the plaintext for recoverable keys. */
  encrypted: string | null
  createdAt: number
  updatedAt: number | null
  lastUsedAt: number | null
}

export type NewKeyRecord = Omit<KeyRecord, 'updatedAt' | 'lastUsedAt'>

/** The columns keys.updateKey may change; absent fields stay as they are. */
export type KeyPatch = Partial<
  Pick<KeyRecord, 'name' | 'meta' | 'identityId' | 'enabled' | 'expiresAt' | 'remaining' | 'refillAmount' | 'refillDay' | 'lastRefillAt' | 'updatedAt'>
>

export interface CreditBalance {
  keyId: string
  remaining: number | null
  lastRefillAt: number | null
}

/** A key's balance and refill settings: what a change of its credits is decided on. */
export interface CreditState {
  remaining: number | null
  refillAmount: number | null
  /** Day of the month of a monthly refill; null for daily. */
  refillDay: number | null
  lastRefillAt: number | null
  createdAt: number
}

/** What `changeCredits` is told to do: the balance to write (null: none), and what to hand back to its caller. */
export interface CreditChange<T> {
  balance: Omit<CreditBalance, 'keyId'> | null
  result: T
}

export interface KeyMigrationRecord {
  id: string
  workspaceId: string
  algorithm: string
  createdAt: number
}

export interface KeyStore {
  insert(key: NewKeyRecord): Promise<void>
  /** The live key with this id in this workspace, or null. */
  findLive(workspaceId: string, keyId: string): Promise<KeyRecord | null>
  /**
   * False only when no stored key can have this hash (the SQLite server keeps
   * a filter of them); true when one may. Synchronous: asked before any cache,
   * and before findLiveByHash, which reads whatever it is asked.
   */
  mayHoldHash?(hash: string): boolean
  /** The live key with this hash in this workspace, or null; answered at once when the engine can (every unknown key asks). */
  findLiveByHash(workspaceId: string, hash: string): KeyRecord | null | Promise<KeyRecord | null>
  /** The workspace's key holding this hash, live or deleted (hashes are unique per workspace), or null. */
  findHashHolder(workspaceId: string, hash: string): Promise<{ id: string; deleted: boolean; apiId: string } | null>
  /** Live keys of an API ordered by id, from `cursor` (inclusive), at most `limit`; optionally of one identity. */
  listLive(workspaceId: string, apiId: string, page: { cursor: string; limit: number; identityId?: string }): Promise<KeyRecord[]>
  update(keyId: string, patch: KeyPatch): Promise<void>
  /** Sets `expires_at` (and `updated_at`). */
  setExpiry(keyId: string, expiresAt: number, at: number): Promise<void>
  softDelete(keyId: string, at: number): Promise<void>
  hardDelete(keyId: string): Promise<void>
  setStart(keyId: string, start: string): Promise<void>
  /** Writes credit balances, all or none. */
  setCredits(balances: CreditBalance[]): Promise<void>
  /**
   * Changes one key's balance safely against every other writer (another node
   * included): reads its state with the row locked (null: no such key), writes
   * the balance `change` decides, and resolves with its `result` once that is
   * committed. Joins the caller's transaction, else runs as one of its own
   * (never failing on a concurrent writer: it waits for the row instead).
   */
  changeCredits<T>(keyId: string, change: (state: CreditState | null) => CreditChange<T>): Promise<T>
  /** Live keys with a refill on `refillDay` (null: daily) whose last refill (or creation) predates `boundary`. */
  dueForRefill(refillDay: number | null, boundary: number): Promise<{ id: string; remaining: number | null; refillAmount: number }[]>
  /** Moves last-used times forward (never back), all or none. */
  touchLastUsed(uses: [keyId: string, at: number][]): Promise<void>
  /** Detaches every key from an identity that is going away. */
  unlinkIdentity(identityId: string): Promise<void>

  insertMigration(migration: KeyMigrationRecord): Promise<void>
  findMigration(workspaceId: string, migrationId: string): Promise<KeyMigrationRecord | null>
  /** The workspace's migrations, oldest first, with how many live keys still wait for their first verification. */
  listMigrations(workspaceId: string): Promise<(KeyMigrationRecord & { pendingKeys: number })[]>
  markPendingMigration(keyId: string, migrationId: string): Promise<void>
  /** The live key of this migration still stored under the other system's hash. */
  findPendingMigration(workspaceId: string, migrationId: string, legacyHash: string): Promise<{ id: string } | null>
  /** Rewrites a migrated key to latch's own hash and start. */
  completeMigration(keyId: string, hash: string, start: string): Promise<void>
  /** Frees a deleted key's hash so that a live key can take it. */
  retireHash(keyId: string): Promise<void>
}
