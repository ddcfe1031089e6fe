// SQLite store of the ratelimit_namespaces and ratelimit_overrides tables.
import type { RatelimitNamespace, RatelimitNamespaceStore, RatelimitNamespaceSummary, RatelimitOverride } from '../stores/ratelimitNamespaces'
import type { SqliteEngine } from './engine'

interface NamespaceRow {
  id: string
  workspace_id: string
  name: string
  created_at: number
  deleted_at: number | null
}

interface OverrideRow {
  id: string
  namespace_id: string
  identifier: string
  limit: number
  duration: number
}

const toNamespace = (r: NamespaceRow): RatelimitNamespace => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
})

const toOverride = (r: OverrideRow): RatelimitOverride => ({
  id: r.id,
  namespaceId: r.namespace_id,
  identifier: r.identifier,
  limit: r.limit,
  duration: r.duration,
})

const SUMMARY = `n.id, n.name, n.created_at AS createdAt,
  (SELECT count(*) FROM ratelimit_overrides o WHERE o.namespace_id = n.id) AS overrideCount`

export class SqliteRatelimitNamespaceStore implements RatelimitNamespaceStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      byId: sql.prepare<NamespaceRow, [string, string]>('SELECT * FROM ratelimit_namespaces WHERE id = ? AND workspace_id = ?'),
      byName: sql.prepare<NamespaceRow, [string, string]>('SELECT * FROM ratelimit_namespaces WHERE name = ? AND workspace_id = ?'),
      insert: sql.prepare(
        'INSERT INTO ratelimit_namespaces (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id, name) DO NOTHING',
      ),
      softDelete: sql.prepare('UPDATE ratelimit_namespaces SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      page: sql.prepare<RatelimitNamespaceSummary, [string, string, number]>(
        `SELECT ${SUMMARY} FROM ratelimit_namespaces n WHERE n.workspace_id = ?1 AND n.deleted_at IS NULL AND n.id >= ?2 ORDER BY n.id LIMIT ?3`,
      ),
      // The same, among the ids given as a JSON array (looked up by primary key).
      pageOfIds: sql.prepare<RatelimitNamespaceSummary, [string, string, number, string]>(
        `SELECT ${SUMMARY} FROM ratelimit_namespaces n
         WHERE n.id IN (SELECT value FROM json_each(?4)) AND n.workspace_id = ?1 AND n.deleted_at IS NULL AND n.id >= ?2 ORDER BY n.id LIMIT ?3`,
      ),
      deleteOverrides: sql.prepare('DELETE FROM ratelimit_overrides WHERE namespace_id = ?'),
      overrides: sql.prepare<OverrideRow, [string]>('SELECT id, namespace_id, identifier, "limit", duration FROM ratelimit_overrides WHERE namespace_id = ?'),
      overridePage: sql.prepare<OverrideRow, [string, string, number]>(
        'SELECT id, namespace_id, identifier, "limit", duration FROM ratelimit_overrides WHERE namespace_id = ? AND id >= ? ORDER BY id LIMIT ?',
      ),
      upsertOverride: sql.prepare<{ id: string }, [string, string, string, string, number, number, number]>(
        `INSERT INTO ratelimit_overrides (id, workspace_id, namespace_id, identifier, "limit", duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace_id, identifier) DO UPDATE SET "limit" = excluded."limit", duration = excluded.duration, updated_at = excluded.created_at
         RETURNING id`,
      ),
      deleteOverride: sql.prepare<{ id: string }, [string, string]>('DELETE FROM ratelimit_overrides WHERE namespace_id = ? AND identifier = ? RETURNING id'),
    }
  }

  findById(workspaceId: string, namespaceId: string) {
    return this.sql.run(() => {
      const row = this.stmt.byId.get(namespaceId, workspaceId)
      return row ? toNamespace(row) : null
    })
  }

  findByName(workspaceId: string, name: string) {
    return this.sql.run(() => {
      const row = this.stmt.byName.get(name, workspaceId)
      return row ? toNamespace(row) : null
    })
  }

  async insertIfAbsent(ns: Omit<RatelimitNamespace, 'deletedAt'>) {
    await this.sql.run(() => this.stmt.insert.run(ns.id, ns.workspaceId, ns.name, ns.createdAt))
  }

  async softDelete(namespaceId: string, at: number) {
    await this.sql.run(() => this.stmt.softDelete.run(at, namespaceId))
  }

  pageLive(workspaceId: string, page: { cursor: string; limit: number; ids?: readonly string[] }) {
    return this.sql.run(() =>
      page.ids === undefined
        ? this.stmt.page.all(workspaceId, page.cursor, page.limit)
        : this.stmt.pageOfIds.all(workspaceId, page.cursor, page.limit, JSON.stringify(page.ids)),
    )
  }

  listOverrides(namespaceId: string) {
    return this.sql.run(() => this.stmt.overrides.all(namespaceId).map(toOverride))
  }

  pageOverrides(namespaceId: string, page: { cursor: string; limit: number }) {
    return this.sql.run(() => this.stmt.overridePage.all(namespaceId, page.cursor, page.limit).map(toOverride))
  }

  upsertOverride(workspaceId: string, o: RatelimitOverride, at: number) {
    return this.sql.run(() => this.stmt.upsertOverride.get(o.id, workspaceId, o.namespaceId, o.identifier, o.limit, o.duration, at)!.id)
  }

  deleteOverrides(namespaceId: string) {
    return this.sql.run(() => this.stmt.deleteOverrides.run(namespaceId).changes)
  }

  deleteOverride(namespaceId: string, identifier: string) {
    return this.sql.run(() => this.stmt.deleteOverride.get(namespaceId, identifier)?.id ?? null)
  }
}
