// PostgreSQL store of the identities table.
import type { IdentityRecord, IdentityStore, NewIdentityRecord } from '../stores/identities'
import type { PostgresEngine } from './engine'
import { num, numOrNull } from './values'

interface Row {
  id: string
  workspace_id: string
  external_id: string
  meta: string | null
  created_at: bigint
  updated_at: bigint | null
}

const toRecord = (r: Row): IdentityRecord => ({
  id: r.id,
  workspaceId: r.workspace_id,
  externalId: r.external_id,
  meta: r.meta,
  createdAt: num(r.created_at),
  updatedAt: numOrNull(r.updated_at),
})

/** The search of a page: case-insensitive (ASCII, as SQLite's lower()) on the external id or the id. */
const SEARCH = "($3 = '' OR strpos(lower(external_id), lower($3)) > 0 OR strpos(lower(id), lower($3)) > 0)"

export class PostgresIdentityStore implements IdentityStore {
  constructor(private readonly sql: PostgresEngine) {}

  async insert(i: NewIdentityRecord) {
    await this.sql.run('INSERT INTO identities (id, workspace_id, external_id, meta, created_at) VALUES ($1, $2, $3, $4, $5)', [
      i.id,
      i.workspaceId,
      i.externalId,
      i.meta,
      i.createdAt,
    ])
  }

  async findLive(workspaceId: string, identityId: string) {
    const row = await this.sql.get<Row>('SELECT * FROM identities WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL', [identityId, workspaceId])
    return row ? toRecord(row) : null
  }

  async findLiveByExternalId(workspaceId: string, externalId: string) {
    const row = await this.sql.get<Row>('SELECT * FROM identities WHERE external_id = $1 AND workspace_id = $2 AND deleted_at IS NULL', [
      externalId,
      workspaceId,
    ])
    return row ? toRecord(row) : null
  }

  async listLive(workspaceId: string, page: { cursor: string; limit: number; search: string; ids?: readonly string[] }) {
    const rows =
      page.ids === undefined
        ? await this.sql.all<Row>(`SELECT * FROM identities WHERE workspace_id = $1 AND deleted_at IS NULL AND id >= $2 AND ${SEARCH} ORDER BY id LIMIT $4`, [
            workspaceId,
            page.cursor,
            page.search,
            page.limit,
          ])
        : // The same, among the ids given as a JSON array (looked up by primary key).
          await this.sql.all<Row>(
            `SELECT * FROM identities WHERE id IN (SELECT json_array_elements_text($5::text::json)) AND workspace_id = $1 AND deleted_at IS NULL
               AND id >= $2 AND ${SEARCH} ORDER BY id LIMIT $4`,
            [workspaceId, page.cursor, page.search, page.limit, JSON.stringify(page.ids)],
          )
    return rows.map(toRecord)
  }

  async update(identityId: string, patch: { meta?: string; updatedAt: number }) {
    if (patch.meta === undefined) await this.sql.run('UPDATE identities SET updated_at = $1 WHERE id = $2', [patch.updatedAt, identityId])
    else await this.sql.run('UPDATE identities SET meta = $1, updated_at = $2 WHERE id = $3', [patch.meta, patch.updatedAt, identityId])
  }

  async softDelete(identityId: string, at: number) {
    await this.sql.run('UPDATE identities SET deleted_at = $1, updated_at = $1 WHERE id = $2', [at, identityId])
  }
}
