// SQLite store of the end-user RBAC tables: permissions, roles,
// roles_permissions, keys_permissions and keys_roles.
import { toPage, type ListInput } from '../pagination'
import type { KeyAccess, Permission, RbacStore, Role } from '../stores/rbac'
import type { SqliteEngine } from './engine'

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

export class SqliteRbacStore implements RbacStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      insertPermission: sql.prepare('INSERT INTO permissions (id, workspace_id, name, slug, description, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      permissionBySlug: sql.prepare<PermissionRow, [string, string]>('SELECT * FROM permissions WHERE workspace_id = ? AND slug = ?'),
      // An id match wins over a permission whose slug happens to equal that id.
      permissionByIdOrSlug: sql.prepare<PermissionRow, [string, string]>(
        'SELECT * FROM permissions WHERE workspace_id = ?1 AND (id = ?2 OR slug = ?2) ORDER BY id = ?2 DESC LIMIT 1',
      ),
      permissionPage: sql.prepare<PermissionRow, [string, string, string, number]>(
        `SELECT * FROM permissions WHERE workspace_id = ?1 AND id >= ?2
           AND (?3 = '' OR instr(lower(id), lower(?3)) > 0 OR instr(lower(name), lower(?3)) > 0
                OR instr(lower(slug), lower(?3)) > 0 OR instr(lower(coalesce(description, '')), lower(?3)) > 0)
         ORDER BY id LIMIT ?4`,
      ),
      deletePermission: sql.prepare('DELETE FROM permissions WHERE id = ?'),

      insertRole: sql.prepare('INSERT INTO roles (id, workspace_id, name, description, created_at) VALUES (?, ?, ?, ?, ?)'),
      roleByName: sql.prepare<RoleRow, [string, string]>('SELECT * FROM roles WHERE workspace_id = ? AND name = ?'),
      // An id match wins over a role whose name happens to equal that id.
      roleByIdOrName: sql.prepare<RoleRow, [string, string]>(
        'SELECT * FROM roles WHERE workspace_id = ?1 AND (id = ?2 OR name = ?2) ORDER BY id = ?2 DESC LIMIT 1',
      ),
      rolePage: sql.prepare<RoleRow, [string, string, string, number]>(
        `SELECT * FROM roles WHERE workspace_id = ?1 AND id >= ?2
           AND (?3 = '' OR instr(lower(id), lower(?3)) > 0 OR instr(lower(name), lower(?3)) > 0
                OR instr(lower(coalesce(description, '')), lower(?3)) > 0)
         ORDER BY id LIMIT ?4`,
      ),
      deleteRole: sql.prepare('DELETE FROM roles WHERE id = ?'),
      touchRole: sql.prepare('UPDATE roles SET updated_at = ? WHERE id = ?'),
      rolePermissions: sql.prepare<PermissionRow, [string]>(
        'SELECT p.* FROM roles_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = ? ORDER BY p.slug',
      ),
      clearRolePermissions: sql.prepare('DELETE FROM roles_permissions WHERE role_id = ?'),
      addRolePermission: sql.prepare('INSERT OR IGNORE INTO roles_permissions (role_id, permission_id) VALUES (?, ?)'),

      keyPermissions: sql.prepare<PermissionRow, [string]>(
        'SELECT p.* FROM keys_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE kp.key_id = ? ORDER BY p.slug',
      ),
      addKeyPermission: sql.prepare('INSERT OR IGNORE INTO keys_permissions (key_id, permission_id) VALUES (?, ?)'),
      removeKeyPermission: sql.prepare('DELETE FROM keys_permissions WHERE key_id = ? AND permission_id = ?'),
      clearKeyPermissions: sql.prepare('DELETE FROM keys_permissions WHERE key_id = ?'),
      keyRoles: sql.prepare<RoleRow, [string]>('SELECT r.* FROM keys_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = ? ORDER BY r.name'),
      addKeyRole: sql.prepare('INSERT OR IGNORE INTO keys_roles (key_id, role_id) VALUES (?, ?)'),
      removeKeyRole: sql.prepare('DELETE FROM keys_roles WHERE key_id = ? AND role_id = ?'),
      clearKeyRoles: sql.prepare('DELETE FROM keys_roles WHERE key_id = ?'),
      copyKeyPermissions: sql.prepare(
        'INSERT OR IGNORE INTO keys_permissions (key_id, permission_id) SELECT ?2, permission_id FROM keys_permissions WHERE key_id = ?1',
      ),
      copyKeyRoles: sql.prepare('INSERT OR IGNORE INTO keys_roles (key_id, role_id) SELECT ?2, role_id FROM keys_roles WHERE key_id = ?1'),
      effectivePermissions: sql.prepare<{ slug: string }, [string, string]>(
        `SELECT p.slug FROM keys_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE kp.key_id = ?
         UNION
         SELECT p.slug FROM keys_roles kr JOIN roles_permissions rp ON rp.role_id = kr.role_id
           JOIN permissions p ON p.id = rp.permission_id WHERE kr.key_id = ?
         ORDER BY 1`,
      ),
      roleNames: sql.prepare<{ name: string }, [string]>(
        'SELECT r.name FROM keys_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = ? ORDER BY r.name',
      ),
    }
  }

  /** Runs several statements atomically (a savepoint when a transaction is already open). */
  private batch(work: () => void): Promise<void> {
    return this.sql.run(() => this.sql.db.transaction(work)())
  }

  /** Runs `statement` once per id, with `ownerId` first (one key's or role's links), atomically. */
  private forEach(statement: { run(ownerId: string, id: string): unknown }, ownerId: string, ids: string[]): Promise<void> {
    return this.batch(() => {
      for (const id of ids) statement.run(ownerId, id)
    })
  }

  /** The first row of `query`, mapped, or null. */
  private first<R, T>(query: { get(...params: string[]): R | null }, map: (r: R) => T, ...params: string[]): Promise<T | null> {
    return this.sql.run(() => {
      const row = query.get(...params)
      return row ? map(row) : null
    })
  }

  // ---- the catalogue -------------------------------------------------------------

  async insertPermission(workspaceId: string, p: Permission, createdAt: number) {
    await this.sql.run(() => this.stmt.insertPermission.run(p.id, workspaceId, p.name, p.slug, p.description || null, createdAt))
  }

  findPermissionBySlug(workspaceId: string, slug: string) {
    return this.first(this.stmt.permissionBySlug, toPermission, workspaceId, slug)
  }

  findPermission(workspaceId: string, idOrSlug: string) {
    return this.first(this.stmt.permissionByIdOrSlug, toPermission, workspaceId, idOrSlug)
  }

  listPermissions(workspaceId: string, input: ListInput) {
    return this.sql.run(() =>
      toPage(this.stmt.permissionPage.all(workspaceId, input.cursor ?? '', input.search ?? '', input.limit + 1), input.limit, toPermission),
    )
  }

  async deletePermission(permissionId: string) {
    await this.sql.run(() => this.stmt.deletePermission.run(permissionId))
  }

  async insertRole(workspaceId: string, role: Role, createdAt: number) {
    await this.sql.run(() => this.stmt.insertRole.run(role.id, workspaceId, role.name, role.description || null, createdAt))
  }

  findRoleByName(workspaceId: string, name: string) {
    return this.first(this.stmt.roleByName, toRole, workspaceId, name)
  }

  findRole(workspaceId: string, idOrName: string) {
    return this.first(this.stmt.roleByIdOrName, toRole, workspaceId, idOrName)
  }

  listRoles(workspaceId: string, input: ListInput) {
    return this.sql.run(() => toPage(this.stmt.rolePage.all(workspaceId, input.cursor ?? '', input.search ?? '', input.limit + 1), input.limit, toRole))
  }

  async deleteRole(roleId: string) {
    await this.sql.run(() => this.stmt.deleteRole.run(roleId))
  }

  rolePermissions(roleId: string) {
    return this.sql.run(() => this.stmt.rolePermissions.all(roleId).map(toPermission))
  }

  addRolePermissions(roleId: string, permissionIds: string[]) {
    return this.forEach(this.stmt.addRolePermission, roleId, permissionIds)
  }

  setRolePermissions(roleId: string, permissionIds: string[], updatedAt: number) {
    return this.batch(() => {
      this.stmt.clearRolePermissions.run(roleId)
      for (const id of permissionIds) this.stmt.addRolePermission.run(roleId, id)
      this.stmt.touchRole.run(updatedAt, roleId)
    })
  }

  // ---- a key's grants ----------------------------------------------------------------

  keyPermissions(keyId: string) {
    return this.sql.run(() => this.stmt.keyPermissions.all(keyId).map(toPermission))
  }

  keyRoles(keyId: string) {
    return this.sql.run(() => this.stmt.keyRoles.all(keyId).map(toRole))
  }

  addKeyPermissions(keyId: string, permissionIds: string[]) {
    return this.forEach(this.stmt.addKeyPermission, keyId, permissionIds)
  }

  removeKeyPermissions(keyId: string, permissionIds: string[]) {
    return this.forEach(this.stmt.removeKeyPermission, keyId, permissionIds)
  }

  setKeyPermissions(keyId: string, permissionIds: string[]) {
    return this.batch(() => {
      this.stmt.clearKeyPermissions.run(keyId)
      for (const id of permissionIds) this.stmt.addKeyPermission.run(keyId, id)
    })
  }

  addKeyRoles(keyId: string, roleIds: string[]) {
    return this.forEach(this.stmt.addKeyRole, keyId, roleIds)
  }

  removeKeyRoles(keyId: string, roleIds: string[]) {
    return this.forEach(this.stmt.removeKeyRole, keyId, roleIds)
  }

  setKeyRoles(keyId: string, roleIds: string[]) {
    return this.batch(() => {
      this.stmt.clearKeyRoles.run(keyId)
      for (const id of roleIds) this.stmt.addKeyRole.run(keyId, id)
    })
  }

  copyKeyGrants(fromKeyId: string, toKeyId: string) {
    return this.batch(() => {
      this.stmt.copyKeyPermissions.run(fromKeyId, toKeyId)
      this.stmt.copyKeyRoles.run(fromKeyId, toKeyId)
    })
  }

  keyAccess(keyId: string): Promise<KeyAccess> {
    return this.sql.run(() => ({
      permissions: this.stmt.effectivePermissions.all(keyId, keyId).map((r) => r.slug),
      roles: this.stmt.roleNames.all(keyId).map((r) => r.name),
    }))
  }
}
