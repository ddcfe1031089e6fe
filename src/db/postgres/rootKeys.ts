// PostgreSQL store of the root_keys table. Inside a transaction, `findById`
// locks the row it finds until the end, so that the rules that read a root key
// and then act on it (rotate an active key, revoke it, issue a key that does
// not outlive its issuer) hold under READ COMMITTED (engine.ts): a second
// rotation waits for the first and then finds the key revoked.
import type { RootKey, RootKeyStore } from '../stores/rootKeys'
import type { PostgresEngine } from './engine'
import { num, numOrNull } from './values'

interface Row {
  id: string
  workspace_id: string
  name: string
  hash: string
  start: string
  permissions: string
  created_at: bigint
  expires_at: bigint | null
  revoked_at: bigint | null
  last_used_at: bigint | null
  seeded: boolean
}

const toRootKey = (r: Row): RootKey => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  hash: r.hash,
  start: r.start,
  permissions: JSON.parse(r.permissions),
  createdAt: num(r.created_at),
  expiresAt: numOrNull(r.expires_at),
  revokedAt: numOrNull(r.revoked_at),
  lastUsedAt: numOrNull(r.last_used_at),
  seeded: r.seeded,
})

export class PostgresRootKeyStore implements RootKeyStore {
  constructor(private readonly sql: PostgresEngine) {}

  async insert(k: RootKey) {
    await this.sql.run(
      `INSERT INTO root_keys (id, workspace_id, name, hash, start, permissions, created_at, expires_at, seeded)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [k.id, k.workspaceId, k.name, k.hash, k.start, JSON.stringify(k.permissions), k.createdAt, k.expiresAt, k.seeded],
    )
  }

  private async one(where: string, param: string, lock = '') {
    const row = await this.sql.get<Row>(`SELECT * FROM root_keys WHERE ${where} = $1${lock}`, [param])
    return row ? toRootKey(row) : null
  }

  findById(id: string) {
    return this.one('id', id, this.sql.inTransaction ? ' FOR NO KEY UPDATE' : '')
  }

  findByHash(hash: string) {
    return this.one('hash', hash)
  }

  async listHashes(limit: number) {
    return (await this.sql.all<{ hash: string }>('SELECT hash FROM root_keys LIMIT $1', [limit])).map((r) => r.hash)
  }

  async listByWorkspace(workspaceId: string) {
    return (await this.sql.all<Row>('SELECT * FROM root_keys WHERE workspace_id = $1 ORDER BY created_at, id', [workspaceId])).map(toRootKey)
  }

  async pageByWorkspace(workspaceId: string, page: { cursor: string; limit: number }) {
    const rows = await this.sql.all<Row>('SELECT * FROM root_keys WHERE workspace_id = $1 AND id >= $2 ORDER BY id LIMIT $3', [
      workspaceId,
      page.cursor,
      page.limit,
    ])
    return rows.map(toRootKey)
  }

  async listSeeded(workspaceId: string) {
    return (await this.sql.all<Row>('SELECT * FROM root_keys WHERE workspace_id = $1 AND seeded AND revoked_at IS NULL', [workspaceId])).map(toRootKey)
  }

  async revoke(id: string, at: number) {
    return (await this.sql.run('UPDATE root_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0
  }

  async expireBy(id: string, at: number) {
    await this.sql.run('UPDATE root_keys SET expires_at = $1 WHERE id = $2 AND (expires_at IS NULL OR expires_at > $1)', [at, id])
  }

  async recordUse(uses: Iterable<readonly [id: string, at: number]>) {
    const rows = [...uses].map(([id, at]) => ({ id, at }))
    if (rows.length === 0) return
    // One statement for the batch: atomic, and a time never moves back.
    await this.sql.run(
      `UPDATE root_keys k SET last_used_at = u.at FROM json_to_recordset($1::text::json) AS u(id text, at bigint)
       WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
      [JSON.stringify(rows)],
    )
  }
}
