// SQLite store of the root_keys table.
import type { RootKey, RootKeyStore } from '../stores/rootKeys'
import type { SqliteEngine } from './engine'

interface Row {
  id: string
  workspace_id: string
  name: string
  hash: string
  start: string
  permissions: string
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
  seeded: number
}

const toRootKey = (r: Row): RootKey => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  hash: r.hash,
  start: r.start,
  permissions: JSON.parse(r.permissions),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  seeded: r.seeded === 1,
})

export class SqliteRootKeyStore implements RootKeyStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      byHash: sql.prepare<Row, [string]>('SELECT * FROM root_keys WHERE hash = ?'),
      byId: sql.prepare<Row, [string]>('SELECT * FROM root_keys WHERE id = ?'),
      hashes: sql.prepare<{ hash: string }, [number]>('SELECT hash FROM root_keys LIMIT ?'),
      list: sql.prepare<Row, [string]>('SELECT * FROM root_keys WHERE workspace_id = ? ORDER BY created_at, id'),
      page: sql.prepare<Row, [string, string, number]>('SELECT * FROM root_keys WHERE workspace_id = ? AND id >= ? ORDER BY id LIMIT ?'),
      seeded: sql.prepare<Row, [string]>('SELECT * FROM root_keys WHERE workspace_id = ? AND seeded = 1 AND revoked_at IS NULL'),
      insert: sql.prepare(
        `INSERT INTO root_keys (id, workspace_id, name, hash, start, permissions, created_at, expires_at, seeded)
         VALUES ($id, $workspaceId, $name, $hash, $start, $permissions, $createdAt, $expiresAt, $seeded)`,
      ),
      revoke: sql.prepare('UPDATE root_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      expire: sql.prepare('UPDATE root_keys SET expires_at = ? WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)'),
      touch: sql.prepare('UPDATE root_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)'),
    }
  }

  async insert(k: RootKey) {
    await this.sql.run(() =>
      this.stmt.insert.run({
        id: k.id,
        workspaceId: k.workspaceId,
        name: k.name,
        hash: k.hash,
        start: k.start,
        permissions: JSON.stringify(k.permissions),
        createdAt: k.createdAt,
        expiresAt: k.expiresAt,
        seeded: k.seeded ? 1 : 0,
      }),
    )
  }

  findById(id: string) {
    return this.sql.run(() => {
      const row = this.stmt.byId.get(id)
      return row ? toRootKey(row) : null
    })
  }

  findByHash(hash: string) {
    return this.sql.run(() => {
      const row = this.stmt.byHash.get(hash)
      return row ? toRootKey(row) : null
    })
  }

  listHashes(limit: number) {
    return this.sql.run(() => this.stmt.hashes.all(limit).map((r) => r.hash))
  }

  listByWorkspace(workspaceId: string) {
    return this.sql.run(() => this.stmt.list.all(workspaceId).map(toRootKey))
  }

  pageByWorkspace(workspaceId: string, page: { cursor: string; limit: number }) {
    return this.sql.run(() => this.stmt.page.all(workspaceId, page.cursor, page.limit).map(toRootKey))
  }

  listSeeded(workspaceId: string) {
    return this.sql.run(() => this.stmt.seeded.all(workspaceId).map(toRootKey))
  }

  revoke(id: string, at: number) {
    return this.sql.run(() => this.stmt.revoke.run(at, id).changes > 0)
  }

  async expireBy(id: string, at: number) {
    await this.sql.run(() => this.stmt.expire.run(at, id, at))
  }

  async recordUse(uses: Iterable<readonly [id: string, at: number]>) {
    await this.sql.run(() =>
      this.sql.db.transaction(() => {
        for (const [id, at] of uses) this.stmt.touch.run(at, id, at)
      })(),
    )
  }
}
