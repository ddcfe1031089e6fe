// PostgreSQL store of the ratelimit_namespaces and ratelimit_overrides tables.
// Under READ COMMITTED (engine.ts), a namespace created or deleted by another
// transaction after this one looked runs this transaction again, so that its
// check sees it: one creation event, and a second deletion is a 404.
import type { RatelimitNamespace, RatelimitNamespaceStore, RatelimitNamespaceSummary, RatelimitOverride } from '../stores/ratelimitNamespaces'
import type { PostgresEngine } from './engine'
import { num, numOrNull } from './values'

interface NamespaceRow {
  id: string
  workspace_id: string
  name: string
  created_at: bigint
  deleted_at: bigint | null
}

interface OverrideRow {
  id: string
  namespace_id: string
  identifier: string
  limit: bigint
  duration: bigint
}

const toNamespace = (r: NamespaceRow): RatelimitNamespace => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  createdAt: num(r.created_at),
  deletedAt: numOrNull(r.deleted_at),
})

const toOverride = (r: OverrideRow): RatelimitOverride => ({
  id: r.id,
  namespaceId: r.namespace_id,
  identifier: r.identifier,
  limit: num(r.limit),
  duration: num(r.duration),
})

interface SummaryRow {
  id: string
  name: string
  created_at: bigint
  override_count: bigint
}

const SUMMARY = `n.id, n.name, n.created_at, (SELECT count(*) FROM ratelimit_overrides o WHERE o.namespace_id = n.id) AS override_count`

const toSummary = (r: SummaryRow): RatelimitNamespaceSummary => ({ id: r.id, name: r.name, createdAt: num(r.created_at), overrideCount: num(r.override_count) })

const OVERRIDE_COLUMNS = 'id, namespace_id, identifier, "limit", duration'

export class PostgresRatelimitNamespaceStore implements RatelimitNamespaceStore {
  constructor(private readonly sql: PostgresEngine) {}

  async findById(workspaceId: string, namespaceId: string) {
    const row = await this.sql.get<NamespaceRow>('SELECT * FROM ratelimit_namespaces WHERE id = $1 AND workspace_id = $2', [namespaceId, workspaceId])
    return row ? toNamespace(row) : null
  }

  async findByName(workspaceId: string, name: string) {
    const row = await this.sql.get<NamespaceRow>('SELECT * FROM ratelimit_namespaces WHERE name = $1 AND workspace_id = $2', [name, workspaceId])
    return row ? toNamespace(row) : null
  }

  async insertIfAbsent(ns: Omit<RatelimitNamespace, 'deletedAt'>) {
    const inserted = await this.sql.run(
      'INSERT INTO ratelimit_namespaces (id, workspace_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, name) DO NOTHING',
      [ns.id, ns.workspaceId, ns.name, ns.createdAt],
    )
    if (inserted === 0) this.sql.rerunIfInTransaction('namespace created meanwhile')
  }

  async softDelete(namespaceId: string, at: number) {
    const deleted = await this.sql.run('UPDATE ratelimit_namespaces SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL', [at, namespaceId])
    if (deleted === 0) this.sql.rerunIfInTransaction('namespace deleted meanwhile')
  }

  async pageLive(workspaceId: string, page: { cursor: string; limit: number; ids?: readonly string[] }) {
    const rows =
      page.ids === undefined
        ? await this.sql.all<SummaryRow>(
            `SELECT ${SUMMARY} FROM ratelimit_namespaces n WHERE n.workspace_id = $1 AND n.deleted_at IS NULL AND n.id >= $2 ORDER BY n.id LIMIT $3`,
            [workspaceId, page.cursor, page.limit],
          )
        : // The same, among the ids given as a JSON array (looked up by primary key).
          await this.sql.all<SummaryRow>(
            `SELECT ${SUMMARY} FROM ratelimit_namespaces n WHERE n.id IN (SELECT json_array_elements_text($4::text::json)) AND n.workspace_id = $1
               AND n.deleted_at IS NULL AND n.id >= $2 ORDER BY n.id LIMIT $3`,
            [workspaceId, page.cursor, page.limit, JSON.stringify(page.ids)],
          )
    return rows.map(toSummary)
  }

  async listOverrides(namespaceId: string) {
    return (await this.sql.all<OverrideRow>(`SELECT ${OVERRIDE_COLUMNS} FROM ratelimit_overrides WHERE namespace_id = $1`, [namespaceId])).map(toOverride)
  }

  async pageOverrides(namespaceId: string, page: { cursor: string; limit: number }) {
    const rows = await this.sql.all<OverrideRow>(
      `SELECT ${OVERRIDE_COLUMNS} FROM ratelimit_overrides WHERE namespace_id = $1 AND id >= $2 ORDER BY id LIMIT $3`,
      [namespaceId, page.cursor, page.limit],
    )
    return rows.map(toOverride)
  }

  async upsertOverride(workspaceId: string, o: RatelimitOverride, at: number) {
    const row = await this.sql.get<{ id: string }>(
      `INSERT INTO ratelimit_overrides (id, workspace_id, namespace_id, identifier, "limit", duration, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (namespace_id, identifier) DO UPDATE SET "limit" = excluded."limit", duration = excluded.duration, updated_at = excluded.created_at
       RETURNING id`,
      [o.id, workspaceId, o.namespaceId, o.identifier, o.limit, o.duration, at],
    )
    return row!.id
  }

  deleteOverrides(namespaceId: string) {
    return this.sql.run('DELETE FROM ratelimit_overrides WHERE namespace_id = $1', [namespaceId])
  }

  async deleteOverride(namespaceId: string, identifier: string) {
    const row = await this.sql.get<{ id: string }>('DELETE FROM ratelimit_overrides WHERE namespace_id = $1 AND identifier = $2 RETURNING id', [
      namespaceId,
      identifier,
    ])
    return row?.id ?? null
  }
}
