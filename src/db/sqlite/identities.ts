// SQLite store of the identities table.
import type { IdentityRecord, IdentityStore, NewIdentityRecord } from '../stores/identities'
import type { SqliteEngine } from './engine'

interface Row {
  id: string
  workspace_id: string
  external_id: string
  meta: string | null
  created_at: number
  updated_at: number | null
}

const toRecord = (r: Row): IdentityRecord => ({
  id: r.id,
  workspaceId: r.workspace_id,
  externalId: r.external_id,
  meta: r.meta,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export class SqliteIdentityStore implements IdentityStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      insert: sql.prepare('INSERT INTO identities (id, workspace_id, external_id, meta, created_at) VALUES (?, ?, ?, ?, ?)'),
      live: sql.prepare<Row, [string, string]>('SELECT * FROM identities WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL'),
      liveByExternalId: sql.prepare<Row, [string, string]>('SELECT * FROM identities WHERE external_id = ? AND workspace_id = ? AND deleted_at IS NULL'),
      page: sql.prepare<Row, [string, string, string, number]>(
        `SELECT * FROM identities WHERE workspace_id = ?1 AND deleted_at IS NULL AND id >= ?2
           AND (?3 = '' OR instr(lower(external_id), lower(?3)) > 0 OR instr(lower(id), lower(?3)) > 0)
         ORDER BY id LIMIT ?4`,
      ),
      // The same, among the ids given as a JSON array (looked up by primary key).
      pageOfIds: sql.prepare<Row, [string, string, string, number, string]>(
        `SELECT * FROM identities WHERE id IN (SELECT value FROM json_each(?5)) AND workspace_id = ?1 AND deleted_at IS NULL AND id >= ?2
           AND (?3 = '' OR instr(lower(external_id), lower(?3)) > 0 OR instr(lower(id), lower(?3)) > 0)
         ORDER BY id LIMIT ?4`,
      ),
      setMeta: sql.prepare('UPDATE identities SET meta = ?, updated_at = ? WHERE id = ?'),
      touch: sql.prepare('UPDATE identities SET updated_at = ? WHERE id = ?'),
      softDelete: sql.prepare('UPDATE identities SET deleted_at = ?, updated_at = ? WHERE id = ?'),
    }
  }

  async insert(i: NewIdentityRecord) {
    await this.sql.run(() => this.stmt.insert.run(i.id, i.workspaceId, i.externalId, i.meta, i.createdAt))
  }

  findLive(workspaceId: string, identityId: string) {
    return this.sql.run(() => {
      const row = this.stmt.live.get(identityId, workspaceId)
      return row ? toRecord(row) : null
    })
  }

  findLiveByExternalId(workspaceId: string, externalId: string) {
    return this.sql.run(() => {
      const row = this.stmt.liveByExternalId.get(externalId, workspaceId)
      return row ? toRecord(row) : null
    })
  }

  listLive(workspaceId: string, page: { cursor: string; limit: number; search: string; ids?: readonly string[] }) {
    return this.sql.run(() =>
      (page.ids === undefined
        ? this.stmt.page.all(workspaceId, page.cursor, page.search, page.limit)
        : this.stmt.pageOfIds.all(workspaceId, page.cursor, page.search, page.limit, JSON.stringify(page.ids))
      ).map(toRecord),
    )
  }

  async update(identityId: string, patch: { meta?: string; updatedAt: number }) {
    await this.sql.run(() =>
      patch.meta === undefined ? this.stmt.touch.run(patch.updatedAt, identityId) : this.stmt.setMeta.run(patch.meta, patch.updatedAt, identityId),
    )
  }

  async softDelete(identityId: string, at: number) {
    await this.sql.run(() => this.stmt.softDelete.run(at, at, identityId))
  }
}
