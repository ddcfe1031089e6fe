// SQLite store of the keys and key_migrations tables (verification_events: analytics-events.ts).
import type { CreditBalance, CreditChange, CreditState, KeyMigrationRecord, KeyPatch, KeyRecord, KeyStore, NewKeyRecord } from '../stores/keys'
import type { SqliteEngine } from './engine'
import type { KeyHashes } from './key-hashes'

interface Row {
  id: string
  workspace_id: string
  api_id: string
  hash: string
  start: string
  name: string | null
  meta: string | null
  identity_id: string | null
  enabled: number
  expires_at: number | null
  remaining: number | null
  refill_amount: number | null
  refill_day: number | null
  last_refill_at: number | null
  encrypted: string | null
  created_at: number
  updated_at: number | null
  last_used_at: number | null
}

const toRecord = (r: Row): KeyRecord => ({
  id: r.id,
  workspaceId: r.workspace_id,
  apiId: r.api_id,
  hash: r.hash,
  start: r.start,
  name: r.name,
  meta: r.meta,
  identityId: r.identity_id,
  enabled: r.enabled === 1,
  expiresAt: r.expires_at,
  remaining: r.remaining,
  refillAmount: r.refill_amount,
  refillDay: r.refill_day,
  lastRefillAt: r.last_refill_at,
  encrypted: r.encrypted,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastUsedAt: r.last_used_at,
})

/** keyof KeyPatch -> column. */
const PATCH_COLUMNS: Record<keyof KeyPatch, string> = {
  name: 'name',
  meta: 'meta',
  identityId: 'identity_id',
  enabled: 'enabled',
  expiresAt: 'expires_at',
  remaining: 'remaining',
  refillAmount: 'refill_amount',
  refillDay: 'refill_day',
  lastRefillAt: 'last_refill_at',
  updatedAt: 'updated_at',
}

interface MigrationRow {
  id: string
  workspace_id: string
  algorithm: string
  created_at: number
}

const toMigration = (r: MigrationRow): KeyMigrationRecord => ({ id: r.id, workspaceId: r.workspace_id, algorithm: r.algorithm, createdAt: r.created_at })

/** A key's columns and its last-used time (kept apart: see migration 15), to follow with the WHERE on `k`. */
const KEY_ROW = 'k.*, u.at AS last_used_at FROM keys k LEFT JOIN key_last_used u ON u.key_id = k.id'

export class SqliteKeyStore implements KeyStore {
  private readonly stmt

  /** `hashes`: the server's filter of stored hashes (./key-hashes.ts), told of every hash before it is written. */
  constructor(
    private readonly sql: SqliteEngine,
    private readonly hashes: KeyHashes | null = null,
  ) {
    this.stmt = {
      insert: sql.prepare(
        `INSERT INTO keys (id, workspace_id, api_id, hash, start, name, meta, identity_id, enabled, expires_at, remaining,
           refill_amount, refill_day, last_refill_at, encrypted, created_at)
         VALUES ($id, $workspaceId, $apiId, $hash, $start, $name, $meta, $identityId, $enabled, $expiresAt, $remaining,
           $refillAmount, $refillDay, $lastRefillAt, $encrypted, $createdAt)`,
      ),
      live: sql.prepare<Row, [string, string]>(`SELECT ${KEY_ROW} WHERE k.id = ? AND k.workspace_id = ? AND k.deleted_at IS NULL`),
      liveByHash: sql.prepare<Row, [string, string]>(`SELECT ${KEY_ROW} WHERE k.workspace_id = ? AND k.hash = ? AND k.deleted_at IS NULL`),
      hashHolder: sql.prepare<{ id: string; deleted: number; api_id: string }, [string, string]>(
        'SELECT id, deleted_at IS NOT NULL AS deleted, api_id FROM keys WHERE workspace_id = ? AND hash = ?',
      ),
      page: sql.prepare<Row, [string, string, string, number]>(
        `SELECT ${KEY_ROW} WHERE k.api_id = ? AND k.workspace_id = ? AND k.deleted_at IS NULL AND k.id >= ? ORDER BY k.id LIMIT ?`,
      ),
      pageByIdentity: sql.prepare<Row, [string, string, string, string, number]>(
        `SELECT ${KEY_ROW} WHERE k.api_id = ? AND k.workspace_id = ? AND k.deleted_at IS NULL AND k.identity_id = ? AND k.id >= ?
         ORDER BY k.id LIMIT ?`,
      ),
      setExpiry: sql.prepare('UPDATE keys SET expires_at = ?, updated_at = ? WHERE id = ?'),
      softDelete: sql.prepare('UPDATE keys SET deleted_at = ? WHERE id = ?'),
      hardDelete: sql.prepare('DELETE FROM keys WHERE id = ?'),
      setStart: sql.prepare('UPDATE keys SET start = ? WHERE id = ?'),
      setCredits: sql.prepare('UPDATE keys SET remaining = ?, last_refill_at = ? WHERE id = ?'),
      creditState: sql.prepare<
        { remaining: number | null; refill_amount: number | null; refill_day: number | null; last_refill_at: number | null; created_at: number },
        [string]
      >('SELECT remaining, refill_amount, refill_day, last_refill_at, created_at FROM keys WHERE id = ?'),
      // One query per refill day (null = daily), served by the keys_refill_due index.
      dueDaily: sql.prepare<{ id: string; remaining: number | null; refill_amount: number }, [number]>(
        `SELECT id, remaining, refill_amount FROM keys WHERE refill_amount IS NOT NULL AND deleted_at IS NULL
           AND refill_day IS NULL AND coalesce(last_refill_at, created_at) < ?`,
      ),
      dueMonthly: sql.prepare<{ id: string; remaining: number | null; refill_amount: number }, [number, number]>(
        `SELECT id, remaining, refill_amount FROM keys WHERE refill_amount IS NOT NULL AND deleted_at IS NULL
           AND refill_day = ? AND coalesce(last_refill_at, created_at) < ?`,
      ),
      // A key deleted for good since it was used has no row to note it on (its use stays in the events).
      touch: sql.prepare(
        `INSERT INTO key_last_used (key_id, at) SELECT ?2, ?1 WHERE EXISTS (SELECT 1 FROM keys WHERE id = ?2)
         ON CONFLICT (key_id) DO UPDATE SET at = excluded.at WHERE excluded.at > key_last_used.at`,
      ),
      unlinkIdentity: sql.prepare('UPDATE keys SET identity_id = NULL WHERE identity_id = ?'),
      insertMigration: sql.prepare('INSERT INTO key_migrations (id, workspace_id, algorithm, created_at) VALUES (?, ?, ?, ?)'),
      migration: sql.prepare<MigrationRow, [string, string]>('SELECT * FROM key_migrations WHERE id = ? AND workspace_id = ?'),
      migrations: sql.prepare<MigrationRow & { pending: number }, [string]>(
        `SELECT m.*, (SELECT COUNT(*) FROM keys k WHERE k.pending_migration_id = m.id AND k.deleted_at IS NULL) AS pending
         FROM key_migrations m WHERE m.workspace_id = ? ORDER BY m.created_at, m.id`,
      ),
      markPending: sql.prepare('UPDATE keys SET pending_migration_id = ? WHERE id = ?'),
      pendingByLegacyHash: sql.prepare<{ id: string }, [string, string, string]>(
        'SELECT id FROM keys WHERE workspace_id = ? AND pending_migration_id = ? AND hash = ? AND deleted_at IS NULL',
      ),
      completeMigration: sql.prepare('UPDATE keys SET hash = ?, start = ?, pending_migration_id = NULL WHERE id = ?'),
      retireHash: sql.prepare("UPDATE keys SET hash = 'retired:' || id WHERE id = ?"),
    }
  }

  async insert(k: NewKeyRecord) {
    this.hashes?.add(k.hash)
    await this.sql.run(() =>
      this.stmt.insert.run({
        id: k.id,
        workspaceId: k.workspaceId,
        apiId: k.apiId,
        hash: k.hash,
        start: k.start,
        name: k.name,
        meta: k.meta,
        identityId: k.identityId,
        enabled: k.enabled ? 1 : 0,
        expiresAt: k.expiresAt,
        remaining: k.remaining,
        refillAmount: k.refillAmount,
        refillDay: k.refillDay,
        lastRefillAt: k.lastRefillAt,
        encrypted: k.encrypted,
        createdAt: k.createdAt,
      }),
    )
  }

  findLive(workspaceId: string, keyId: string) {
    return this.sql.run(() => {
      const row = this.stmt.live.get(keyId, workspaceId)
      return row ? toRecord(row) : null
    })
  }

  mayHoldHash(hash: string): boolean {
    return this.hashes === null || this.hashes.mayHold(hash)
  }

  findLiveByHash(workspaceId: string, hash: string) {
    return this.sql.read(() => {
      const row = this.stmt.liveByHash.get(workspaceId, hash)
      return row ? toRecord(row) : null
    })
  }

  findHashHolder(workspaceId: string, hash: string) {
    return this.sql.run(() => {
      const row = this.stmt.hashHolder.get(workspaceId, hash)
      return row ? { id: row.id, deleted: row.deleted === 1, apiId: row.api_id } : null
    })
  }

  listLive(workspaceId: string, apiId: string, page: { cursor: string; limit: number; identityId?: string }) {
    return this.sql.run(() =>
      (page.identityId === undefined
        ? this.stmt.page.all(apiId, workspaceId, page.cursor, page.limit)
        : this.stmt.pageByIdentity.all(apiId, workspaceId, page.identityId, page.cursor, page.limit)
      ).map(toRecord),
    )
  }

  async update(keyId: string, patch: KeyPatch) {
    const sets: string[] = []
    const values: Record<string, string | number | null> = { id: keyId }
    for (const [field, value] of Object.entries(patch) as [keyof KeyPatch, KeyPatch[keyof KeyPatch]][]) {
      if (value === undefined) continue
      const column = PATCH_COLUMNS[field]
      sets.push(`${column} = $${column}`)
      values[column] = typeof value === 'boolean' ? (value ? 1 : 0) : value
    }
    if (sets.length === 0) return
    // The column names come from PATCH_COLUMNS, never from the caller.
    await this.sql.run(() => this.sql.prepare(`UPDATE keys SET ${sets.join(', ')} WHERE id = $id`).run(values))
  }

  async setExpiry(keyId: string, expiresAt: number, at: number) {
    await this.sql.run(() => this.stmt.setExpiry.run(expiresAt, at, keyId))
  }

  async softDelete(keyId: string, at: number) {
    await this.sql.run(() => this.stmt.softDelete.run(at, keyId))
  }

  async hardDelete(keyId: string) {
    await this.sql.run(() => this.stmt.hardDelete.run(keyId))
  }

  async setStart(keyId: string, start: string) {
    await this.sql.run(() => this.stmt.setStart.run(start, keyId))
  }

  async setCredits(balances: CreditBalance[]) {
    if (balances.length === 0) return
    await this.sql.run(() =>
      this.sql.db.transaction(() => {
        for (const b of balances) this.stmt.setCredits.run(b.remaining, b.lastRefillAt, b.keyId)
      })(),
    )
  }

  changeCredits<T>(keyId: string, change: (state: CreditState | null) => CreditChange<T>): Promise<T> {
    // One synchronous SQLite transaction: nothing else can write between the read and the write.
    return this.sql.run(() =>
      this.sql.db.transaction(() => {
        const row = this.stmt.creditState.get(keyId)
        const state = row
          ? {
              remaining: row.remaining,
              refillAmount: row.refill_amount,
              refillDay: row.refill_day,
              lastRefillAt: row.last_refill_at,
              createdAt: row.created_at,
            }
          : null
        const { balance, result } = change(state)
        if (balance) this.stmt.setCredits.run(balance.remaining, balance.lastRefillAt, keyId)
        return result
      })(),
    )
  }

  dueForRefill(refillDay: number | null, boundary: number) {
    return this.sql.run(() =>
      (refillDay === null ? this.stmt.dueDaily.all(boundary) : this.stmt.dueMonthly.all(refillDay, boundary)).map((r) => ({
        id: r.id,
        remaining: r.remaining,
        refillAmount: r.refill_amount,
      })),
    )
  }

  async touchLastUsed(uses: [keyId: string, at: number][]) {
    if (uses.length === 0) return
    await this.sql.run(() =>
      this.sql.db.transaction(() => {
        for (const [keyId, at] of uses) this.stmt.touch.run(at, keyId)
      })(),
    )
  }

  async unlinkIdentity(identityId: string) {
    await this.sql.run(() => this.stmt.unlinkIdentity.run(identityId))
  }

  async insertMigration(m: KeyMigrationRecord) {
    await this.sql.run(() => this.stmt.insertMigration.run(m.id, m.workspaceId, m.algorithm, m.createdAt))
  }

  findMigration(workspaceId: string, migrationId: string) {
    return this.sql.run(() => {
      const row = this.stmt.migration.get(migrationId, workspaceId)
      return row ? toMigration(row) : null
    })
  }

  listMigrations(workspaceId: string) {
    return this.sql.run(() => this.stmt.migrations.all(workspaceId).map((r) => ({ ...toMigration(r), pendingKeys: r.pending })))
  }

  async markPendingMigration(keyId: string, migrationId: string) {
    await this.sql.run(() => this.stmt.markPending.run(migrationId, keyId))
  }

  findPendingMigration(workspaceId: string, migrationId: string, legacyHash: string) {
    return this.sql.run(() => this.stmt.pendingByLegacyHash.get(workspaceId, migrationId, legacyHash))
  }

  async completeMigration(keyId: string, hash: string, start: string) {
    this.hashes?.add(hash)
    await this.sql.run(() => this.stmt.completeMigration.run(hash, start, keyId))
  }

  async retireHash(keyId: string) {
    await this.sql.run(() => this.stmt.retireHash.run(keyId))
  }
}
