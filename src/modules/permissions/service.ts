// End-user RBAC catalogue: permissions (slugs) and roles (named sets of
// permissions) that our users grant to their customers' keys. Scoped per
// workspace. Owns the permissions.* CRUD and a role's permission set; what a
// key holds is src/modules/keys/access.ts. Every catalogue change that can
// alter how a key verifies (deleting a permission or role, changing a role's
// permissions) is announced through `onChange`, which makes the key cache
// reload the workspace's keys.
import type { Clock } from '../../clock'
import type { ListInput, Page } from '../../db/pagination'
import type { Stores } from '../../db/stores'
import type { Permission, Role } from '../../db/stores/rbac'
import { conflict, notFound } from '../../errors'
import { newId } from '../../ids'
import type { BeforeCreatePermissions, SlugCatalogue } from '../../rbac/requirements'
import type { AuditLog } from '../audit/service'
import type { CreatePermissionInput, CreateRoleInput } from './model'

export type { Permission, Role }

export interface RoleWithPermissions extends Role {
  /** Sorted by slug. */
  permissions: Permission[]
}

/** A permission or role as an audit event names it. */
export const permissionResource = (p: Permission) => ({ type: 'permission', id: p.id, name: p.slug })
export const roleResource = (r: Role) => ({ type: 'role', id: r.id, name: r.name })

export const roleNotFound = (role: string) => notFound('role', `Role '${role}' was not found.`)
export const permissionNotFound = (permission: string) => notFound('permission', `Permission '${permission}' was not found.`)
/** 404 for the permissions.* routes that address one permission or role. */
export const requestedPermissionNotFound = () => notFound('permission', 'The requested permission does not exist.')
export const requestedRoleNotFound = () => notFound('role', 'The requested role does not exist.')

export class PermissionService implements SlugCatalogue {
  private readonly changeListeners: ((workspaceId: string) => void)[] = []

  constructor(
    private readonly stores: Pick<Stores, 'rbac' | 'transaction'>,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** Registers a listener told about every catalogue change that can alter what a key verifies as (the key cache). */
  onChange(listener: (workspaceId: string) => void): void {
    this.changeListeners.push(listener)
  }

  private changed(workspaceId: string): void {
    for (const listener of this.changeListeners) listener(workspaceId)
  }

  // ---- permissions -------------------------------------------------------------

  /** Slugs (deduplicated, in order) that do not name a permission of the workspace yet. */
  async unknownSlugs(workspaceId: string, slugs: string[]): Promise<string[]> {
    const unknown: string[] = []
    for (const slug of new Set(slugs)) {
      if (!(await this.stores.rbac.findPermissionBySlug(workspaceId, slug))) unknown.push(slug)
    }
    return unknown
  }

  /** 409 when the slug is taken. */
  createPermission(workspaceId: string, input: CreatePermissionInput): Promise<Permission> {
    return this.stores.transaction(async () => {
      if (await this.stores.rbac.findPermissionBySlug(workspaceId, input.slug)) {
        throw conflict('permission', `A permission with slug '${input.slug}' already exists in this workspace.`)
      }
      const permission: Permission = {
        id: newId('perm'),
        name: input.name,
        slug: input.slug,
        ...(input.description ? { description: input.description } : {}),
      }
      await this.stores.rbac.insertPermission(workspaceId, permission, this.clock.now())
      const resources = [permissionResource(permission)]
      await this.audit.record({ workspaceId, event: 'permission.create', resources, description: `Created permission ${permission.slug}` })
      return permission
    })
  }

  /** The permission with this id or slug (id wins), or null. */
  findPermission(workspaceId: string, idOrSlug: string): Promise<Permission | null> {
    return this.stores.rbac.findPermission(workspaceId, idOrSlug)
  }

  /** Like findPermission, but a missing permission is a 404. */
  async getPermission(workspaceId: string, idOrSlug: string): Promise<Permission> {
    const permission = await this.findPermission(workspaceId, idOrSlug)
    if (!permission) throw requestedPermissionNotFound()
    return permission
  }

  listPermissions(workspaceId: string, input: ListInput): Promise<Page<Permission>> {
    return this.stores.rbac.listPermissions(workspaceId, input)
  }

  /** Deletes the permission and detaches it from every key and role (foreign-key cascades). */
  async deletePermission(workspaceId: string, idOrSlug: string): Promise<void> {
    await this.stores.transaction(async () => {
      const permission = await this.getPermission(workspaceId, idOrSlug)
      await this.stores.rbac.deletePermission(permission.id)
      const resources = [permissionResource(permission)]
      await this.audit.record({ workspaceId, event: 'permission.delete', resources, description: `Deleted permission ${permission.slug}` })
    })
    this.changed(workspaceId)
  }

  /**
   * The permissions with these slugs, creating missing ones (name = slug).
   * Joins the caller's transaction, which must be open. `beforeCreate` is told
   * which slugs are new first, inside that transaction, so that a refusal
   * leaves nothing behind and no slug can become new in between.
   */
  async ensurePermissions(workspaceId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Promise<Permission[]> {
    if (beforeCreate) {
      const unknown = await this.unknownSlugs(workspaceId, slugs)
      if (unknown.length) beforeCreate(unknown)
    }
    const out: Permission[] = []
    for (const slug of new Set(slugs)) {
      let permission = await this.stores.rbac.findPermissionBySlug(workspaceId, slug)
      if (!permission) {
        permission = { id: newId('perm'), name: slug, slug }
        await this.stores.rbac.insertPermission(workspaceId, permission, this.clock.now())
      }
      out.push(permission)
    }
    return out
  }

  // ---- roles -------------------------------------------------------------------

  /** 409 when the name is taken; unknown permission slugs are created. */
  createRole(workspaceId: string, input: CreateRoleInput, beforeCreate?: BeforeCreatePermissions): Promise<Role> {
    return this.stores.transaction(async () => {
      if (await this.stores.rbac.findRoleByName(workspaceId, input.name)) {
        throw conflict('role', `A role with name '${input.name}' already exists in this workspace.`)
      }
      const role: Role = { id: newId('role'), name: input.name, ...(input.description ? { description: input.description } : {}) }
      await this.stores.rbac.insertRole(workspaceId, role, this.clock.now())
      // Like the upstream, slugs that differ only in case count once when creating a role.
      const seen = new Set<string>()
      const slugs = (input.permissions ?? []).filter((slug) => !seen.has(slug.toLowerCase()) && seen.add(slug.toLowerCase()))
      const permissions = await this.ensurePermissions(workspaceId, slugs, beforeCreate)
      await this.stores.rbac.addRolePermissions(
        role.id,
        permissions.map((p) => p.id),
      )
      const granted = permissions.length ? ` with permissions ${permissions.map((p) => p.slug).join(', ')}` : ''
      const resources = [roleResource(role), ...permissions.map(permissionResource)]
      await this.audit.record({ workspaceId, event: 'role.create', resources, description: `Created role ${role.name}${granted}` })
      return role
    })
  }

  /** The role with this id or name in the workspace (id wins), or null. */
  findRole(workspaceId: string, idOrName: string): Promise<Role | null> {
    return this.stores.rbac.findRole(workspaceId, idOrName)
  }

  /** The role with this id or name, with its permissions; a missing role is a 404. */
  async getRole(workspaceId: string, idOrName: string): Promise<RoleWithPermissions> {
    const role = await this.findRole(workspaceId, idOrName)
    if (!role) throw requestedRoleNotFound()
    return this.withPermissions(role)
  }

  /** Resolves role names or ids (deduplicated); an unknown one is a 404 naming it. */
  async getRoles(workspaceId: string, idsOrNames: string[]): Promise<Role[]> {
    const roles = new Map<string, Role>()
    for (const r of idsOrNames) {
      const role = await this.findRole(workspaceId, r)
      if (!role) throw roleNotFound(r)
      roles.set(role.id, role)
    }
    return [...roles.values()]
  }

  async listRoles(workspaceId: string, input: ListInput): Promise<Page<RoleWithPermissions>> {
    const page = await this.stores.rbac.listRoles(workspaceId, input)
    const items: RoleWithPermissions[] = []
    for (const role of page.items) items.push(await this.withPermissions(role))
    return { ...page, items }
  }

  /** Deletes the role and detaches it from every key (foreign-key cascades). */
  async deleteRole(workspaceId: string, idOrName: string): Promise<void> {
    await this.stores.transaction(async () => {
      const role = await this.findRole(workspaceId, idOrName)
      if (!role) throw requestedRoleNotFound()
      await this.stores.rbac.deleteRole(role.id)
      await this.audit.record({ workspaceId, event: 'role.delete', resources: [roleResource(role)], description: `Deleted role ${role.name}` })
    })
    this.changed(workspaceId)
  }

  /** Replaces the role's permissions with these slugs (created if unknown); returns them, sorted by slug. */
  async setRolePermissions(workspaceId: string, idOrName: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Promise<Permission[]> {
    const roleId = await this.stores.transaction(async () => {
      const role = await this.findRole(workspaceId, idOrName)
      if (!role) throw requestedRoleNotFound()
      const permissions = await this.ensurePermissions(workspaceId, slugs, beforeCreate)
      await this.stores.rbac.setRolePermissions(
        role.id,
        permissions.map((p) => p.id),
        this.clock.now(),
      )
      const granted = permissions.map((p) => p.slug).join(', ') || 'none'
      const resources = [roleResource(role), ...permissions.map(permissionResource)]
      await this.audit.record({ workspaceId, event: 'role.set_permissions', resources, description: `Set the permissions of role ${role.name} to ${granted}` })
      return role.id
    })
    this.changed(workspaceId)
    return this.stores.rbac.rolePermissions(roleId)
  }

  /** The role with its permissions, sorted by slug. */
  async withPermissions(role: Role): Promise<RoleWithPermissions> {
    return { ...role, permissions: await this.stores.rbac.rolePermissions(role.id) }
  }
}
