// End-user RBAC: permissions (slugs) and roles (named sets of permissions)
// that our users grant to their customers' keys. Scoped per workspace.
// Owns: the permissions.* CRUD, a role's permission set, a key's direct
// permissions and roles, and a key's effective access (read by verification).
// Every change that can alter how a key verifies calls `changed`, which makes
// the key cache reload the workspace's keys.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { newId } from '../../ids'
import { toPage, type Page, type PageInput } from '../../db/pagination'
import { conflict, notFound } from '../../http/errors'

export interface Permission {
  id: string
  name: string
  slug: string
  description?: string
}

export interface Role {
  id: string
  name: string
  description?: string
}

export interface RoleWithPermissions extends Role {
  /** Sorted by slug. */
  permissions: Permission[]
}

/** A page of a list ordered by id; `cursor` (the first id of the next page) is absent on the last page. */
export interface ListInput extends PageInput {
  /** Case-insensitive substring filter. */
  search?: string
}

/** Called with the slugs about to be created, before any is; may throw to refuse (e.g. a missing root-key permission). */
export type BeforeCreatePermissions = (slugs: string[]) => void

export interface KeyAccess {
  /** Effective permission slugs: direct ones and those of the key's roles, deduplicated, sorted. */
  permissions: string[]
  /** Role names, sorted. */
  roles: string[]
}

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

export const toPermission = (r: PermissionRow): Permission => ({
  id: r.id,
  name: r.name,
  slug: r.slug,
  ...(r.description ? { description: r.description } : {}),
})
export const toRole = (r: RoleRow): Role => ({ id: r.id, name: r.name, ...(r.description ? { description: r.description } : {}) })

export const roleNotFound = (role: string) => notFound('role', `Role '${role}' was not found.`)
export const permissionNotFound = (permission: string) => notFound('permission', `Permission '${permission}' was not found.`)
/** 404 for the permissions.* routes that address one permission or role. */
export const requestedPermissionNotFound = () => notFound('permission', 'The requested permission does not exist.')
export const requestedRoleNotFound = () => notFound('role', 'The requested role does not exist.')

/** Rows of a page plus the id the next page starts at; `rows` holds up to limit + 1 entries. */
export class RbacService {
  private readonly changeListeners: ((workspaceId: string) => void)[] = []

  /** Registers a listener told about every change that can alter what a key verifies as (the key cache). */
  onChange(listener: (workspaceId: string) => void): void {
    this.changeListeners.push(listener)
  }

  /** Call after every mutation of this service's data in `workspaceId`. */
  protected changed(workspaceId: string): void {
    for (const listener of this.changeListeners) listener(workspaceId)
  }

  /** Runs `write` as one transaction, then tells the listeners (only when it succeeded). */
  private commit(workspaceId: string, write: () => void): void {
    this.db.transaction(write)()
    this.changed(workspaceId)
  }

  protected readonly base
  private readonly stmt

  constructor(
    protected readonly db: Database,
    protected readonly clock: Clock,
  ) {
    this.base = {
      permissionBySlug: db.query<PermissionRow, [string, string]>('SELECT * FROM permissions WHERE workspace_id = ? AND slug = ?'),
      insertPermission: db.query('INSERT INTO permissions (id, workspace_id, name, slug, description, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      // An id match wins over a role whose name happens to equal that id.
      roleByIdOrName: db.query<RoleRow, [string, string]>(
        'SELECT * FROM roles WHERE workspace_id = ?1 AND (id = ?2 OR name = ?2) ORDER BY id = ?2 DESC LIMIT 1',
      ),
      clearKeyPermissions: db.query('DELETE FROM keys_permissions WHERE key_id = ?'),
      addKeyPermission: db.query('INSERT OR IGNORE INTO keys_permissions (key_id, permission_id) VALUES (?, ?)'),
      clearKeyRoles: db.query('DELETE FROM keys_roles WHERE key_id = ?'),
      addKeyRole: db.query('INSERT OR IGNORE INTO keys_roles (key_id, role_id) VALUES (?, ?)'),
      directPermissionIds: db.query<{ permission_id: string }, [string]>('SELECT permission_id FROM keys_permissions WHERE key_id = ?'),
      roleIds: db.query<{ role_id: string }, [string]>('SELECT role_id FROM keys_roles WHERE key_id = ?'),
      effectivePermissions: db.query<{ slug: string }, [string, string]>(
        `SELECT p.slug FROM keys_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE kp.key_id = ?
         UNION
         SELECT p.slug FROM keys_roles kr JOIN roles_permissions rp ON rp.role_id = kr.role_id
           JOIN permissions p ON p.id = rp.permission_id WHERE kr.key_id = ?
         ORDER BY 1`,
      ),
      roleNames: db.query<{ name: string }, [string]>(
        'SELECT r.name FROM keys_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = ? ORDER BY r.name',
      ),
    }
    this.stmt = {
      // An id match wins over a permission whose slug happens to equal that id.
      permissionByIdOrSlug: db.query<PermissionRow, [string, string]>(
        'SELECT * FROM permissions WHERE workspace_id = ?1 AND (id = ?2 OR slug = ?2) ORDER BY id = ?2 DESC LIMIT 1',
      ),
      permissionPage: db.query<PermissionRow, [string, string, string, number]>(
        `SELECT * FROM permissions WHERE workspace_id = ?1 AND id >= ?2
           AND (?3 = '' OR instr(lower(id), lower(?3)) > 0 OR instr(lower(name), lower(?3)) > 0
                OR instr(lower(slug), lower(?3)) > 0 OR instr(lower(coalesce(description, '')), lower(?3)) > 0)
         ORDER BY id LIMIT ?4`,
      ),
      deletePermission: db.query('DELETE FROM permissions WHERE id = ?'),
      roleByName: db.query<RoleRow, [string, string]>('SELECT * FROM roles WHERE workspace_id = ? AND name = ?'),
      insertRole: db.query('INSERT INTO roles (id, workspace_id, name, description, created_at) VALUES (?, ?, ?, ?, ?)'),
      rolePage: db.query<RoleRow, [string, string, string, number]>(
        `SELECT * FROM roles WHERE workspace_id = ?1 AND id >= ?2
           AND (?3 = '' OR instr(lower(id), lower(?3)) > 0 OR instr(lower(name), lower(?3)) > 0
                OR instr(lower(coalesce(description, '')), lower(?3)) > 0)
         ORDER BY id LIMIT ?4`,
      ),
      deleteRole: db.query('DELETE FROM roles WHERE id = ?'),
      touchRole: db.query('UPDATE roles SET updated_at = ? WHERE id = ?'),
      rolePermissions: db.query<PermissionRow, [string]>(
        'SELECT p.* FROM roles_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = ? ORDER BY p.slug',
      ),
      clearRolePermissions: db.query('DELETE FROM roles_permissions WHERE role_id = ?'),
      addRolePermission: db.query('INSERT OR IGNORE INTO roles_permissions (role_id, permission_id) VALUES (?, ?)'),
      keyPermissions: db.query<PermissionRow, [string]>(
        'SELECT p.* FROM keys_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE kp.key_id = ? ORDER BY p.slug',
      ),
      removeKeyPermission: db.query('DELETE FROM keys_permissions WHERE key_id = ? AND permission_id = ?'),
      keyRoles: db.query<RoleRow, [string]>('SELECT r.* FROM keys_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = ? ORDER BY r.name'),
      removeKeyRole: db.query('DELETE FROM keys_roles WHERE key_id = ? AND role_id = ?'),
    }
  }

  // ---- permissions -------------------------------------------------------------

  /** Slugs (deduplicated, in order) that do not name a permission of the workspace yet. */
  unknownSlugs(workspaceId: string, slugs: string[]): string[] {
    return [...new Set(slugs)].filter((slug) => !this.base.permissionBySlug.get(workspaceId, slug))
  }

  /** 409 when the slug is taken. */
  createPermission(workspaceId: string, input: { name: string; slug: string; description?: string }): Permission {
    if (this.findPermissionBySlug(workspaceId, input.slug)) {
      throw conflict('permission', `A permission with slug '${input.slug}' already exists in this workspace.`)
    }
    const permission: Permission = {
      id: newId('perm'),
      name: input.name,
      slug: input.slug,
      ...(input.description ? { description: input.description } : {}),
    }
    this.base.insertPermission.run(permission.id, workspaceId, input.name, input.slug, input.description || null, this.clock.now())
    return permission
  }

  /** The permission with this id or slug (id wins), or null. */
  findPermission(workspaceId: string, idOrSlug: string): Permission | null {
    const row = this.stmt.permissionByIdOrSlug.get(workspaceId, idOrSlug)
    return row ? toPermission(row) : null
  }

  /** Like findPermission, but a missing permission is a 404. */
  getPermission(workspaceId: string, idOrSlug: string): Permission {
    const permission = this.findPermission(workspaceId, idOrSlug)
    if (!permission) throw requestedPermissionNotFound()
    return permission
  }

  listPermissions(workspaceId: string, input: ListInput): Page<Permission> {
    const rows = this.stmt.permissionPage.all(workspaceId, input.cursor ?? '', input.search ?? '', input.limit + 1)
    return toPage(rows, input.limit, toPermission)
  }

  /** Deletes the permission and detaches it from every key and role (foreign-key cascades, one transaction). */
  deletePermission(workspaceId: string, idOrSlug: string): void {
    const permission = this.getPermission(workspaceId, idOrSlug)
    this.commit(workspaceId, () => this.stmt.deletePermission.run(permission.id))
  }

  /**
   * Tells `beforeCreate` which of `slugs` are new. Called inside the writing
   * transaction, right before ensurePermissions, so that a refusal leaves
   * nothing behind and no slug can become new in between.
   */
  private guardCreation(workspaceId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): void {
    if (!beforeCreate) return
    const unknown = this.unknownSlugs(workspaceId, slugs)
    if (unknown.length) beforeCreate(unknown)
  }

  private ensurePermissionsGuarded(workspaceId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Permission[] {
    this.guardCreation(workspaceId, slugs, beforeCreate)
    return this.ensurePermissions(workspaceId, slugs)
  }

  // ---- roles -------------------------------------------------------------------

  /** 409 when the name is taken; unknown permission slugs are created. */
  createRole(
    workspaceId: string,
    input: { name: string; description?: string; permissions?: string[] },
    beforeCreate?: BeforeCreatePermissions,
  ): Role {
    if (this.stmt.roleByName.get(workspaceId, input.name)) {
      throw conflict('role', `A role with name '${input.name}' already exists in this workspace.`)
    }
    const role: Role = { id: newId('role'), name: input.name, ...(input.description ? { description: input.description } : {}) }
    this.db.transaction(() => {
      this.stmt.insertRole.run(role.id, workspaceId, input.name, input.description || null, this.clock.now())
      // Like the upstream, slugs that differ only in case count once when creating a role.
      const seen = new Set<string>()
      const slugs = (input.permissions ?? []).filter((slug) => !seen.has(slug.toLowerCase()) && seen.add(slug.toLowerCase()))
      for (const p of this.ensurePermissionsGuarded(workspaceId, slugs, beforeCreate)) {
        this.stmt.addRolePermission.run(role.id, p.id)
      }
    })()
    return role
  }

  /** The role with this id or name, with its permissions; a missing role is a 404. */
  getRole(workspaceId: string, idOrName: string): RoleWithPermissions {
    const role = this.findRole(workspaceId, idOrName)
    if (!role) throw requestedRoleNotFound()
    return this.withPermissions(role)
  }

  listRoles(workspaceId: string, input: ListInput): Page<RoleWithPermissions> {
    const rows = this.stmt.rolePage.all(workspaceId, input.cursor ?? '', input.search ?? '', input.limit + 1)
    return toPage(rows, input.limit, (r) => this.withPermissions(toRole(r)))
  }

  /** Deletes the role and detaches it from every key (foreign-key cascades, one transaction). */
  deleteRole(workspaceId: string, idOrName: string): void {
    const role = this.findRole(workspaceId, idOrName)
    if (!role) throw requestedRoleNotFound()
    this.commit(workspaceId, () => this.stmt.deleteRole.run(role.id))
  }

  /** Replaces the role's permissions with these slugs (created if unknown); returns them, sorted by slug. */
  setRolePermissions(workspaceId: string, idOrName: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Permission[] {
    const role = this.findRole(workspaceId, idOrName)
    if (!role) throw requestedRoleNotFound()
    this.commit(workspaceId, () => {
      const permissions = this.ensurePermissionsGuarded(workspaceId, slugs, beforeCreate)
      this.stmt.clearRolePermissions.run(role.id)
      for (const p of permissions) this.stmt.addRolePermission.run(role.id, p.id)
      this.stmt.touchRole.run(this.clock.now(), role.id)
    })
    return this.stmt.rolePermissions.all(role.id).map(toPermission)
  }

  private withPermissions(role: Role): RoleWithPermissions {
    return { ...role, permissions: this.stmt.rolePermissions.all(role.id).map(toPermission) }
  }

  // ---- a key's direct permissions and roles (keys.*Permissions / keys.*Roles) ---------
  // The caller has checked that the key is live and in `workspaceId`.

  /** The key's direct permissions (not those of its roles), sorted by slug. */
  keyPermissions(keyId: string): Permission[] {
    return this.stmt.keyPermissions.all(keyId).map(toPermission)
  }

  /** The key's roles with their permissions, sorted by name. */
  keyRoles(keyId: string): RoleWithPermissions[] {
    return this.stmt.keyRoles.all(keyId).map((r) => this.withPermissions(toRole(r)))
  }

  /** Adds direct permissions (unknown slugs are created); returns the key's direct permissions. */
  addKeyPermissions(workspaceId: string, keyId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Permission[] {
    this.commit(workspaceId, () => {
      for (const p of this.ensurePermissionsGuarded(workspaceId, slugs, beforeCreate)) this.base.addKeyPermission.run(keyId, p.id)
    })
    return this.keyPermissions(keyId)
  }

  /** Removes direct permissions given by slug or id; an unknown one is a 404 and nothing changes. */
  removeKeyPermissions(workspaceId: string, keyId: string, idsOrSlugs: string[]): Permission[] {
    const permissions = idsOrSlugs.map((p) => {
      const permission = this.findPermission(workspaceId, p)
      if (!permission) throw permissionNotFound(p)
      return permission
    })
    this.commit(workspaceId, () => {
      for (const p of permissions) this.stmt.removeKeyPermission.run(keyId, p.id)
    })
    return this.keyPermissions(keyId)
  }

  /** Makes the key's direct permissions exactly these slugs (unknown ones are created; empty clears). */
  replaceKeyPermissions(workspaceId: string, keyId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Permission[] {
    this.commit(workspaceId, () => {
      this.guardCreation(workspaceId, slugs, beforeCreate)
      this.setKeyPermissions(workspaceId, keyId, slugs)
    })
    return this.keyPermissions(keyId)
  }

  /** Adds roles by name or id (an unknown one is a 404 and nothing changes); returns the key's roles. */
  addKeyRoles(workspaceId: string, keyId: string, idsOrNames: string[]): RoleWithPermissions[] {
    const roles = this.requireRoles(workspaceId, idsOrNames)
    this.commit(workspaceId, () => roles.forEach((r) => this.base.addKeyRole.run(keyId, r.id)))
    return this.keyRoles(keyId)
  }

  /** Removes roles by name or id (an unknown one is a 404 and nothing changes); returns the remaining roles. */
  removeKeyRoles(workspaceId: string, keyId: string, idsOrNames: string[]): RoleWithPermissions[] {
    const roles = this.requireRoles(workspaceId, idsOrNames)
    this.commit(workspaceId, () => roles.forEach((r) => this.stmt.removeKeyRole.run(keyId, r.id)))
    return this.keyRoles(keyId)
  }

  /** Makes the key's roles exactly these (by name or id; unknown is a 404; empty clears). */
  replaceKeyRoles(workspaceId: string, keyId: string, idsOrNames: string[]): RoleWithPermissions[] {
    this.commit(workspaceId, () => this.setKeyRoles(workspaceId, keyId, idsOrNames))
    return this.keyRoles(keyId)
  }

  // ---- used by keys --------------------------------------------------------------

  findPermissionBySlug(workspaceId: string, slug: string): Permission | null {
    const row = this.base.permissionBySlug.get(workspaceId, slug)
    return row ? toPermission(row) : null
  }

  /** The permissions with these slugs, creating missing ones (name = slug). Run inside a transaction. */
  ensurePermissions(workspaceId: string, slugs: string[]): Permission[] {
    const out: Permission[] = []
    for (const slug of new Set(slugs)) {
      let permission = this.findPermissionBySlug(workspaceId, slug)
      if (!permission) {
        permission = { id: newId('perm'), name: slug, slug }
        this.base.insertPermission.run(permission.id, workspaceId, slug, slug, null, this.clock.now())
      }
      out.push(permission)
    }
    return out
  }

  /** The role with this id or name in the workspace, or null. */
  findRole(workspaceId: string, idOrName: string): Role | null {
    const row = this.base.roleByIdOrName.get(workspaceId, idOrName)
    return row ? toRole(row) : null
  }

  /** Resolves role names or ids; an unknown one is a 404 naming it. */
  requireRoles(workspaceId: string, idsOrNames: string[]): Role[] {
    const roles = new Map<string, Role>()
    for (const r of idsOrNames) {
      const role = this.findRole(workspaceId, r)
      if (!role) throw roleNotFound(r)
      roles.set(role.id, role)
    }
    return [...roles.values()]
  }

  /** Replaces the key's direct permissions with these slugs (created if unknown). Run inside a transaction. */
  setKeyPermissions(workspaceId: string, keyId: string, slugs: string[]): void {
    const permissions = this.ensurePermissions(workspaceId, slugs)
    this.base.clearKeyPermissions.run(keyId)
    for (const p of permissions) this.base.addKeyPermission.run(keyId, p.id)
  }

  /** Replaces the key's roles (by name or id; unknown is a 404). Run inside a transaction. */
  setKeyRoles(workspaceId: string, keyId: string, idsOrNames: string[]): void {
    const roles = this.requireRoles(workspaceId, idsOrNames)
    this.base.clearKeyRoles.run(keyId)
    for (const r of roles) this.base.addKeyRole.run(keyId, r.id)
  }

  /** Gives `toKeyId` the same direct permissions and roles as `fromKeyId`. Run inside a transaction. */
  copyKeyAccess(fromKeyId: string, toKeyId: string): void {
    for (const { permission_id } of this.base.directPermissionIds.all(fromKeyId)) this.base.addKeyPermission.run(toKeyId, permission_id)
    for (const { role_id } of this.base.roleIds.all(fromKeyId)) this.base.addKeyRole.run(toKeyId, role_id)
  }

  keyAccess(keyId: string): KeyAccess {
    return {
      permissions: this.base.effectivePermissions.all(keyId, keyId).map((r) => r.slug),
      roles: this.base.roleNames.all(keyId).map((r) => r.name),
    }
  }
}
