// PostgreSQL store of the end-user RBAC tables: permissions, roles,
// roles_permissions, keys_permissions and keys_roles. Lists of ids travel as
// one JSON array parameter, so each change is one statement.
//
// Under READ COMMITTED (engine.ts), a set replaced whole (a key's permissions
// or roles, a role's permissions) is replaced by one transaction at a time:
// each takes a lock on its owner first, so the next one deletes what the last
// one wrote instead of adding to it. A delete that finds its row already gone
// runs the transaction again, whose check then answers 404.
import { type ListInput, toPage } from '../pagination'
import type { KeyAccess, Permission, RbacStore, Role } from '../stores/rbac'
import type { Param, PostgresEngine } from './engine'

interface PermissionRow {
  id: string
  name: string
  slug: string
  description: string | null
}

interface RoleRow {
  id: string
  name: string
  description: string | null
}

const toPermission = (r: PermissionRow): Permission => ({
  id: r.id,
  name: r.name,
  slug: r.slug,
  ...(r.description ? { description: r.description } : {}),
})
const toRole = (r: RoleRow): Role => ({ id: r.id, name: r.name, ...(r.description ? { description: r.description } : {}) })

/** Case-insensitive substring (ASCII, as SQLite's lower()) of `column`, for the list searches. */
const contains = (column: string) => `strpos(lower(${column}), lower($3)) > 0`

/** The ids of a JSON array parameter, as rows. */
const IDS = 'SELECT DISTINCT json_array_elements_text($2::text::json)'

/**
 * Holds the right to replace one key's grants until the transaction ends. An
 * advisory lock, not the keys row's: spends of credits lock that row often,
 * and a grant change need not wait for them.
 */
const LOCK_KEY_GRANTS = "SELECT pg_advisory_xact_lock(hashtextextended('latch key grants ' || $1, 0))"

export class PostgresRbacStore implements RbacStore {
  constructor(private readonly sql: PostgresEngine) {}

  private async first<R, T>(text: string, params: Param[], map: (r: R) => T): Promise<T | null> {
    const row = await this.sql.get<R>(text, params)
    return row ? map(row) : null
  }

  // ---- the catalogue -------------------------------------------------------------

  async insertPermission(workspaceId: string, p: Permission, createdAt: number) {
    await this.sql.run('INSERT INTO permissions (id, workspace_id, name, slug, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      p.id,
      workspaceId,
      p.name,
      p.slug,
      p.description || null,
      createdAt,
    ])
  }

  findPermissionBySlug(workspaceId: string, slug: string) {
    // Inside a transaction, a permission found stays until it ends (FOR KEY SHARE holds off a delete, nothing else):
    // a slug checked as known, by a caller not allowed to create permissions, cannot become new before it is used.
    const lock = this.sql.inTransaction ? ' FOR KEY SHARE' : ''
    return this.first(`SELECT * FROM permissions WHERE workspace_id = $1 AND slug = $2${lock}`, [workspaceId, slug], toPermission)
  }

  findPermission(workspaceId: string, idOrSlug: string) {
    // An id match wins over a permission whose slug happens to equal that id.
    return this.first(
      'SELECT * FROM permissions WHERE workspace_id = $1 AND (id = $2 OR slug = $2) ORDER BY id = $2 DESC LIMIT 1',
      [workspaceId, idOrSlug],
      toPermission,
    )
  }

  async listPermissions(workspaceId: string, input: ListInput) {
    const rows = await this.sql.all<PermissionRow>(
      `SELECT * FROM permissions WHERE workspace_id = $1 AND id >= $2
         AND ($3 = '' OR ${contains('id')} OR ${contains('name')} OR ${contains('slug')} OR ${contains("coalesce(description, '')")})
       ORDER BY id LIMIT $4`,
      [workspaceId, input.cursor ?? '', input.search ?? '', input.limit + 1],
    )
    return toPage(rows, input.limit, toPermission)
  }

  async deletePermission(permissionId: string) {
    if ((await this.sql.run('DELETE FROM permissions WHERE id = $1', [permissionId])) === 0) this.sql.rerunIfInTransaction('permission deleted meanwhile')
  }

  async insertRole(workspaceId: string, role: Role, createdAt: number) {
    await this.sql.run('INSERT INTO roles (id, workspace_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)', [
      role.id,
      workspaceId,
      role.name,
      role.description || null,
      createdAt,
    ])
  }

  findRoleByName(workspaceId: string, name: string) {
    return this.first('SELECT * FROM roles WHERE workspace_id = $1 AND name = $2', [workspaceId, name], toRole)
  }

  findRole(workspaceId: string, idOrName: string) {
    // An id match wins over a role whose name happens to equal that id.
    return this.first('SELECT * FROM roles WHERE workspace_id = $1 AND (id = $2 OR name = $2) ORDER BY id = $2 DESC LIMIT 1', [workspaceId, idOrName], toRole)
  }

  async listRoles(workspaceId: string, input: ListInput) {
    const rows = await this.sql.all<RoleRow>(
      `SELECT * FROM roles WHERE workspace_id = $1 AND id >= $2
         AND ($3 = '' OR ${contains('id')} OR ${contains('name')} OR ${contains("coalesce(description, '')")})
       ORDER BY id LIMIT $4`,
      [workspaceId, input.cursor ?? '', input.search ?? '', input.limit + 1],
    )
    return toPage(rows, input.limit, toRole)
  }

  async deleteRole(roleId: string) {
    if ((await this.sql.run('DELETE FROM roles WHERE id = $1', [roleId])) === 0) this.sql.rerunIfInTransaction('role deleted meanwhile')
  }

  async rolePermissions(roleId: string) {
    const rows = await this.sql.all<PermissionRow>(
      'SELECT p.* FROM roles_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = $1 ORDER BY p.slug',
      [roleId],
    )
    return rows.map(toPermission)
  }

  async addRolePermissions(roleId: string, permissionIds: string[]) {
    if (permissionIds.length === 0) return
    await this.sql.run(`INSERT INTO roles_permissions (role_id, permission_id) SELECT $1, id FROM (${IDS} AS id) ids ON CONFLICT DO NOTHING`, [
      roleId,
      JSON.stringify(permissionIds),
    ])
  }

  setRolePermissions(roleId: string, permissionIds: string[], updatedAt: number) {
    return this.sql.atomic(async () => {
      // The role's row lock: one replacement at a time (see the header).
      if (!(await this.sql.get('SELECT id FROM roles WHERE id = $1 FOR NO KEY UPDATE', [roleId]))) this.sql.rerunIfInTransaction('role deleted meanwhile')
      await this.sql.run('DELETE FROM roles_permissions WHERE role_id = $1', [roleId])
      await this.addRolePermissions(roleId, permissionIds)
      await this.sql.run('UPDATE roles SET updated_at = $1 WHERE id = $2', [updatedAt, roleId])
    })
  }

  // ---- a key's grants ----------------------------------------------------------------

  async keyPermissions(keyId: string) {
    const rows = await this.sql.all<PermissionRow>(
      'SELECT p.* FROM keys_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE kp.key_id = $1 ORDER BY p.slug',
      [keyId],
    )
    return rows.map(toPermission)
  }

  async keyRoles(keyId: string) {
    const rows = await this.sql.all<RoleRow>('SELECT r.* FROM keys_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = $1 ORDER BY r.name', [keyId])
    return rows.map(toRole)
  }

  async addKeyPermissions(keyId: string, permissionIds: string[]) {
    if (permissionIds.length === 0) return
    await this.sql.run(`INSERT INTO keys_permissions (key_id, permission_id) SELECT $1, id FROM (${IDS} AS id) ids ON CONFLICT DO NOTHING`, [
      keyId,
      JSON.stringify(permissionIds),
    ])
  }

  async removeKeyPermissions(keyId: string, permissionIds: string[]) {
    if (permissionIds.length === 0) return
    await this.sql.run(`DELETE FROM keys_permissions WHERE key_id = $1 AND permission_id IN (${IDS})`, [keyId, JSON.stringify(permissionIds)])
  }

  setKeyPermissions(keyId: string, permissionIds: string[]) {
    return this.sql.atomic(async () => {
      await this.sql.run(LOCK_KEY_GRANTS, [keyId])
      await this.sql.run('DELETE FROM keys_permissions WHERE key_id = $1', [keyId])
      await this.addKeyPermissions(keyId, permissionIds)
    })
  }

  async addKeyRoles(keyId: string, roleIds: string[]) {
    if (roleIds.length === 0) return
    await this.sql.run(`INSERT INTO keys_roles (key_id, role_id) SELECT $1, id FROM (${IDS} AS id) ids ON CONFLICT DO NOTHING`, [
      keyId,
      JSON.stringify(roleIds),
    ])
  }

  async removeKeyRoles(keyId: string, roleIds: string[]) {
    if (roleIds.length === 0) return
    await this.sql.run(`DELETE FROM keys_roles WHERE key_id = $1 AND role_id IN (${IDS})`, [keyId, JSON.stringify(roleIds)])
  }

  setKeyRoles(keyId: string, roleIds: string[]) {
    return this.sql.atomic(async () => {
      await this.sql.run(LOCK_KEY_GRANTS, [keyId])
      await this.sql.run('DELETE FROM keys_roles WHERE key_id = $1', [keyId])
      await this.addKeyRoles(keyId, roleIds)
    })
  }

  copyKeyGrants(fromKeyId: string, toKeyId: string) {
    return this.sql.atomic(async () => {
      await this.sql.run(
        'INSERT INTO keys_permissions (key_id, permission_id) SELECT $2, permission_id FROM keys_permissions WHERE key_id = $1 ON CONFLICT DO NOTHING',
        [fromKeyId, toKeyId],
      )
      await this.sql.run('INSERT INTO keys_roles (key_id, role_id) SELECT $2, role_id FROM keys_roles WHERE key_id = $1 ON CONFLICT DO NOTHING', [
        fromKeyId,
        toKeyId,
      ])
    })
  }

  /** One statement, so that both lists come from one snapshot. */
  async keyAccess(keyId: string): Promise<KeyAccess> {
    const row = await this.sql.get<{ permissions: string; roles: string }>(
      `SELECT
         (SELECT coalesce(json_agg(slug ORDER BY slug), '[]')::text FROM (
            SELECT p.slug FROM keys_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE kp.key_id = $1
            UNION
            SELECT p.slug FROM keys_roles kr JOIN roles_permissions rp ON rp.role_id = kr.role_id
              JOIN permissions p ON p.id = rp.permission_id WHERE kr.key_id = $1) slugs) AS permissions,
         (SELECT coalesce(json_agg(r.name ORDER BY r.name), '[]')::text FROM keys_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = $1) AS roles`,
      [keyId],
    )
    return { permissions: JSON.parse(row!.permissions), roles: JSON.parse(row!.roles) }
  }
}
