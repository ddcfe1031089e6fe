// End-user RBAC: permissions (slugs) and roles (named sets of permissions)
// that our users grant to their customers' keys. Scoped per workspace.
// This file holds the parts keys depend on: resolving slugs and roles,
// attaching them to keys, and a key's effective access.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { newId } from '../../ids'
import { notFound } from '../../http/errors'

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

  protected readonly base

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
  }

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
