// PostgreSQL store of the keys and key_migrations tables (verification_events: analytics-events.ts).
import type { CreditBalance, CreditChange, CreditState, KeyMigrationRecord, KeyPatch, KeyRecord, KeyStore, NewKeyRecord } from '../stores/keys'
import type { Param, PostgresEngine } from './engine'
import { num, numOrNull } from './values'

interface Row {
  id: string
  workspace_id: string
  api_id: string
  hash: string
  start: string
  name: string | null
  meta: string | null
  identity_id: string | null
  enabled: boolean
  expires_at: bigint | null
  remaining: bigint | null
  refill_amount: bigint | null
  refill_day: number | null
  last_refill_at: bigint | null
  encrypted: string | null
  created_at: bigint
  updated_at: bigint | null
  last_used_at: bigint | null
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
  enabled: r.enabled,
  expiresAt: numOrNull(r.expires_at),
  remaining: numOrNull(r.remaining),
  refillAmount: numOrNull(r.refill_amount),
  refillDay: r.refill_day,
  lastRefillAt: numOrNull(r.last_refill_at),
  encrypted: r.encrypted,
  createdAt: num(r.created_at),
  updatedAt: numOrNull(r.updated_at),
  lastUsedAt: numOrNull(r.last_used_at),
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
  created_at: bigint
}

const toMigration = (r: MigrationRow): KeyMigrationRecord => ({ id: r.id, workspaceId: r.workspace_id, algorithm: r.algorithm, createdAt: num(r.created_at) })

/** A key's columns and its last-used time (kept apart: see migration 3), to follow with the WHERE on `k`. */
const KEY_ROW = 'k.*, u.at AS last_used_at FROM keys k LEFT JOIN key_last_used u ON u.key_id = k.id'

export class PostgresKeyStore implements KeyStore {
  constructor(private readonly sql: PostgresEngine) {}

  async insert(k: NewKeyRecord) {
    await this.sql.run(
      `INSERT INTO keys (id, workspace_id, api_id, hash, start, name, meta, identity_id, enabled, expires_at, remaining,
         refill_amount, refill_day, last_refill_at, encrypted, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        k.id,
        k.workspaceId,
        k.apiId,
        k.hash,
        k.start,
        k.name,
        k.meta,
        k.identityId,
        k.enabled,
        k.expiresAt,
        k.remaining,
        k.refillAmount,
        k.refillDay,
        k.lastRefillAt,
        k.encrypted,
        k.createdAt,
      ],
    )
  }

  private async first(where: string, params: Param[]) {
    const row = await this.sql.get<Row>(`SELECT ${KEY_ROW} WHERE ${where}`, params)
    return row ? toRecord(row) : null
  }

  findLive(workspaceId: string, keyId: string) {
    return this.first('k.id = $1 AND k.workspace_id = $2 AND k.deleted_at IS NULL', [keyId, workspaceId])
  }

  findLiveByHash(workspaceId: string, hash: string) {
    return this.first('k.workspace_id = $1 AND k.hash = $2 AND k.deleted_at IS NULL', [workspaceId, hash])
  }

  async findHashHolder(workspaceId: string, hash: string) {
    const row = await this.sql.get<{ id: string; deleted: boolean; api_id: string }>(
      'SELECT id, deleted_at IS NOT NULL AS deleted, api_id FROM keys WHERE workspace_id = $1 AND hash = $2',
      [workspaceId, hash],
    )
    return row ? { id: row.id, deleted: row.deleted, apiId: row.api_id } : null
  }

  async listLive(workspaceId: string, apiId: string, page: { cursor: string; limit: number; identityId?: string }) {
    const rows =
      page.identityId === undefined
        ? await this.sql.all<Row>(
            `SELECT ${KEY_ROW} WHERE k.api_id = $1 AND k.workspace_id = $2 AND k.deleted_at IS NULL AND k.id >= $3 ORDER BY k.id LIMIT $4`,
            [apiId, workspaceId, page.cursor, page.limit],
          )
        : await this.sql.all<Row>(
            `SELECT ${KEY_ROW} WHERE k.api_id = $1 AND k.workspace_id = $2 AND k.deleted_at IS NULL AND k.identity_id = $3 AND k.id >= $4
             ORDER BY k.id LIMIT $5`,
            [apiId, workspaceId, page.identityId, page.cursor, page.limit],
          )
    return rows.map(toRecord)
  }

  async update(keyId: string, patch: KeyPatch) {
    const sets: string[] = []
    const values: Param[] = [keyId]
    for (const [field, value] of Object.entries(patch) as [keyof KeyPatch, KeyPatch[keyof KeyPatch]][]) {
      if (value === undefined) continue
      values.push(value)
      // The column names come from PATCH_COLUMNS, never from the caller.
      sets.push(`${PATCH_COLUMNS[field]} = $${values.length}`)
    }
    if (sets.length === 0) return
    await this.sql.run(`UPDATE keys SET ${sets.join(', ')} WHERE id = $1`, values)
  }

  async setExpiry(keyId: string, expiresAt: number, at: number) {
    await this.sql.run('UPDATE keys SET expires_at = $1, updated_at = $2 WHERE id = $3', [expiresAt, at, keyId])
  }

  async softDelete(keyId: string, at: number) {
    await this.sql.run('UPDATE keys SET deleted_at = $1 WHERE id = $2', [at, keyId])
  }

  async hardDelete(keyId: string) {
    await this.sql.run('DELETE FROM keys WHERE id = $1', [keyId])
  }

  async setStart(keyId: string, start: string) {
    await this.sql.run('UPDATE keys SET start = $1 WHERE id = $2', [start, keyId])
  }

  async setCredits(balances: CreditBalance[]) {
    if (balances.length === 0) return
    // One statement: all or none.
    await this.sql.run(
      `UPDATE keys k SET remaining = b.remaining, last_refill_at = b.last_refill_at
       FROM json_to_recordset($1::text::json) AS b(id text, remaining bigint, last_refill_at bigint) WHERE k.id = b.id`,
      [JSON.stringify(balances.map((b) => ({ id: b.keyId, remaining: b.remaining, last_refill_at: b.lastRefillAt })))],
    )
  }

  changeCredits<T>(keyId: string, change: (state: CreditState | null) => CreditChange<T>): Promise<T> {
    // The row lock orders every writer of this balance, on any node; a concurrent one is waited for, and then read as it committed.
    return this.sql.atomic(async () => {
      const row = await this.sql.get<{
        remaining: bigint | null
        refill_amount: bigint | null
        refill_day: number | null
        last_refill_at: bigint | null
        created_at: bigint
      }>('SELECT remaining, refill_amount, refill_day, last_refill_at, created_at FROM keys WHERE id = $1 FOR UPDATE', [keyId])
      const state = row
        ? {
            remaining: numOrNull(row.remaining),
            refillAmount: numOrNull(row.refill_amount),
            refillDay: row.refill_day,
            lastRefillAt: numOrNull(row.last_refill_at),
            createdAt: num(row.created_at),
          }
        : null
      const { balance, result } = change(state)
      if (balance) await this.sql.run('UPDATE keys SET remaining = $1, last_refill_at = $2 WHERE id = $3', [balance.remaining, balance.lastRefillAt, keyId])
      return result
    })
  }

  async dueForRefill(refillDay: number | null, boundary: number) {
    // One query per refill day (null = daily), served by the keys_refill_due index.
    const rows = await this.sql.all<{ id: string; remaining: bigint | null; refill_amount: bigint }>(
      refillDay === null
        ? `SELECT id, remaining, refill_amount FROM keys WHERE refill_amount IS NOT NULL AND deleted_at IS NULL
             AND refill_day IS NULL AND coalesce(last_refill_at, created_at) < $1`
        : `SELECT id, remaining, refill_amount FROM keys WHERE refill_amount IS NOT NULL AND deleted_at IS NULL
             AND refill_day = $2 AND coalesce(last_refill_at, created_at) < $1`,
      refillDay === null ? [boundary] : [boundary, refillDay],
    )
    return rows.map((r) => ({ id: r.id, remaining: numOrNull(r.remaining), refillAmount: num(r.refill_amount) }))
  }

  async touchLastUsed(uses: [keyId: string, at: number][]) {
    if (uses.length === 0) return
    // The keys still there are locked against deletion (as the foreign key's check would lock
    // them) before the insert, so a key deleted meanwhile is skipped instead of failing the batch.
    await this.sql.run(
      `WITH u AS (SELECT id, max(at) AS at FROM json_to_recordset($1::text::json) AS j(id text, at bigint) GROUP BY id),
            live AS (SELECT id FROM keys WHERE id IN (SELECT id FROM u) FOR KEY SHARE)
       INSERT INTO key_last_used (key_id, at) SELECT u.id, u.at FROM u JOIN live ON live.id = u.id
       ON CONFLICT (key_id) DO UPDATE SET at = excluded.at WHERE key_last_used.at < excluded.at`,
      [JSON.stringify(uses.map(([id, at]) => ({ id, at })))],
    )
  }

  async unlinkIdentity(identityId: string) {
    await this.sql.run('UPDATE keys SET identity_id = NULL WHERE identity_id = $1', [identityId])
  }

  async insertMigration(m: KeyMigrationRecord) {
    await this.sql.run('INSERT INTO key_migrations (id, workspace_id, algorithm, created_at) VALUES ($1, $2, $3, $4)', [
      m.id,
      m.workspaceId,
      m.algorithm,
      m.createdAt,
    ])
  }

  async findMigration(workspaceId: string, migrationId: string) {
    const row = await this.sql.get<MigrationRow>('SELECT * FROM key_migrations WHERE id = $1 AND workspace_id = $2', [migrationId, workspaceId])
    return row ? toMigration(row) : null
  }

  async listMigrations(workspaceId: string) {
    const rows = await this.sql.all<MigrationRow & { pending: bigint }>(
      `SELECT m.*, (SELECT COUNT(*) FROM keys k WHERE k.pending_migration_id = m.id AND k.deleted_at IS NULL) AS pending
       FROM key_migrations m WHERE m.workspace_id = $1 ORDER BY m.created_at, m.id`,
      [workspaceId],
    )
    return rows.map((r) => ({ ...toMigration(r), pendingKeys: num(r.pending) }))
  }

  async markPendingMigration(keyId: string, migrationId: string) {
    await this.sql.run('UPDATE keys SET pending_migration_id = $1 WHERE id = $2', [migrationId, keyId])
  }

  findPendingMigration(workspaceId: string, migrationId: string, legacyHash: string) {
    return this.sql.get<{ id: string }>('SELECT id FROM keys WHERE workspace_id = $1 AND pending_migration_id = $2 AND hash = $3 AND deleted_at IS NULL', [
      workspaceId,
      migrationId,
      legacyHash,
    ])
  }

  async completeMigration(keyId: string, hash: string, start: string) {
    await this.sql.run('UPDATE keys SET hash = $1, start = $2, pending_migration_id = NULL WHERE id = $3', [hash, start, keyId])
  }

  async retireHash(keyId: string) {
    await this.sql.run("UPDATE keys SET hash = 'retired:' || id WHERE id = $1", [keyId])
  }
}
