// A key's access: its direct permissions and roles (keys.*Permissions,
// keys.*Roles, and the permissions/roles given at create, update and reroll),
// and the effective access verification checks. Permissions and roles
// themselves are the catalogue's (src/modules/permissions/service.ts). The
// caller has checked that the key is live and in the workspace. Every change
// is announced through `onChange`, which drops the key from the verification
// cache.
import type { Stores } from '../../db/stores'
import type { KeyAccess } from '../../db/stores/rbac'
import type { BeforeCreatePermissions } from '../../rbac/requirements'
import type { AuditLog, AuditResource } from '../audit/service'
import {
  permissionNotFound,
  permissionResource,
  roleResource,
  type Permission,
  type PermissionService,
  type Role,
  type RoleWithPermissions,
} from '../permissions/service'
import { keyResource } from './format'

export type { KeyAccess }

type AccessEvent = `key.${'add' | 'remove' | 'set'}_${'permissions' | 'roles'}`

export class KeyAccessService {
  private readonly changeListeners: ((keyId: string) => void)[] = []

  constructor(
    private readonly stores: Pick<Stores, 'rbac' | 'transaction'>,
    private readonly permissions: PermissionService,
    private readonly audit: AuditLog,
  ) {}

  /** Registers a listener told after every change to a key's access (the key cache). */
  onChange(listener: (keyId: string) => void): void {
    this.changeListeners.push(listener)
  }

  private changed(keyId: string): void {
    for (const listener of this.changeListeners) listener(keyId)
  }

  /** What verification checks the key against: effective permission slugs and role names, each sorted. */
  keyAccess(keyId: string): Promise<KeyAccess> {
    return this.stores.rbac.keyAccess(keyId)
  }

  /** The key's direct permissions (not those of its roles), sorted by slug. */
  permissionsOf(keyId: string): Promise<Permission[]> {
    return this.stores.rbac.keyPermissions(keyId)
  }

  /** The key's roles with their permissions, sorted by name. */
  async rolesOf(keyId: string): Promise<RoleWithPermissions[]> {
    const roles: RoleWithPermissions[] = []
    for (const role of await this.stores.rbac.keyRoles(keyId)) roles.push(await this.permissions.withPermissions(role))
    return roles
  }

  // ---- keys.*Permissions / keys.*Roles: each one transaction, answering with the result ----

  /** Adds direct permissions (unknown slugs are created); returns the key's direct permissions. */
  async addPermissions(workspaceId: string, keyId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Promise<Permission[]> {
    await this.stores.transaction(async () => {
      const permissions = await this.permissions.ensurePermissions(workspaceId, slugs, beforeCreate)
      await this.stores.rbac.addKeyPermissions(keyId, ids(permissions))
      await this.recordAccess(workspaceId, keyId, 'key.add_permissions', permissions.map(permissionResource))
    })
    this.changed(keyId)
    return this.permissionsOf(keyId)
  }

  /** Removes direct permissions given by slug or id; an unknown one is a 404 and nothing changes. */
  async removePermissions(workspaceId: string, keyId: string, idsOrSlugs: string[]): Promise<Permission[]> {
    await this.stores.transaction(async () => {
      const permissions: Permission[] = []
      for (const p of idsOrSlugs) {
        const permission = await this.permissions.findPermission(workspaceId, p)
        if (!permission) throw permissionNotFound(p)
        permissions.push(permission)
      }
      await this.stores.rbac.removeKeyPermissions(keyId, ids(permissions))
      await this.recordAccess(workspaceId, keyId, 'key.remove_permissions', permissions.map(permissionResource))
    })
    this.changed(keyId)
    return this.permissionsOf(keyId)
  }

  /** Makes the key's direct permissions exactly these slugs (unknown ones are created; empty clears). */
  async replacePermissions(workspaceId: string, keyId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Promise<Permission[]> {
    await this.stores.transaction(async () => {
      const permissions = await this.assignPermissions(workspaceId, keyId, slugs, beforeCreate)
      await this.recordAccess(workspaceId, keyId, 'key.set_permissions', permissions.map(permissionResource))
    })
    this.changed(keyId)
    return this.permissionsOf(keyId)
  }

  /** Adds roles by name or id (an unknown one is a 404 and nothing changes); returns the key's roles. */
  async addRoles(workspaceId: string, keyId: string, idsOrNames: string[]): Promise<RoleWithPermissions[]> {
    await this.stores.transaction(async () => {
      const roles = await this.permissions.getRoles(workspaceId, idsOrNames)
      await this.stores.rbac.addKeyRoles(keyId, ids(roles))
      await this.recordAccess(workspaceId, keyId, 'key.add_roles', roles.map(roleResource))
    })
    this.changed(keyId)
    return this.rolesOf(keyId)
  }

  /** Removes roles by name or id (an unknown one is a 404 and nothing changes); returns the remaining roles. */
  async removeRoles(workspaceId: string, keyId: string, idsOrNames: string[]): Promise<RoleWithPermissions[]> {
    await this.stores.transaction(async () => {
      const roles = await this.permissions.getRoles(workspaceId, idsOrNames)
      await this.stores.rbac.removeKeyRoles(keyId, ids(roles))
      await this.recordAccess(workspaceId, keyId, 'key.remove_roles', roles.map(roleResource))
    })
    this.changed(keyId)
    return this.rolesOf(keyId)
  }

  /** Makes the key's roles exactly these (by name or id; unknown is a 404; empty clears). */
  async replaceRoles(workspaceId: string, keyId: string, idsOrNames: string[]): Promise<RoleWithPermissions[]> {
    await this.stores.transaction(async () => {
      const roles = await this.assignRoles(workspaceId, keyId, idsOrNames)
      await this.recordAccess(workspaceId, keyId, 'key.set_roles', roles.map(roleResource))
    })
    this.changed(keyId)
    return this.rolesOf(keyId)
  }

  // ---- used by the keys service, inside its own transaction ----------------------------

  /** Replaces the key's direct permissions with these slugs (created if unknown). Joins the caller's transaction. */
  async setPermissions(workspaceId: string, keyId: string, slugs: string[]): Promise<void> {
    await this.assignPermissions(workspaceId, keyId, slugs)
    this.changed(keyId)
  }

  /** Replaces the key's roles (by name or id; unknown is a 404). Joins the caller's transaction. */
  async setRoles(workspaceId: string, keyId: string, idsOrNames: string[]): Promise<void> {
    await this.assignRoles(workspaceId, keyId, idsOrNames)
    this.changed(keyId)
  }

  /** Gives `toKeyId` the same direct permissions and roles as `fromKeyId`. Joins the caller's transaction. */
  async copy(fromKeyId: string, toKeyId: string): Promise<void> {
    await this.stores.rbac.copyKeyGrants(fromKeyId, toKeyId)
    this.changed(toKeyId)
  }

  private async assignPermissions(workspaceId: string, keyId: string, slugs: string[], beforeCreate?: BeforeCreatePermissions): Promise<Permission[]> {
    const permissions = await this.permissions.ensurePermissions(workspaceId, slugs, beforeCreate)
    await this.stores.rbac.setKeyPermissions(keyId, ids(permissions))
    return permissions
  }

  private async assignRoles(workspaceId: string, keyId: string, idsOrNames: string[]): Promise<Role[]> {
    const roles = await this.permissions.getRoles(workspaceId, idsOrNames)
    await this.stores.rbac.setKeyRoles(keyId, ids(roles))
    return roles
  }

  /** One audit event for a change of the key's access; `changed` are the permissions or roles named by the request. */
  private recordAccess(workspaceId: string, keyId: string, event: AccessEvent, changed: AuditResource[]): Promise<void> {
    const [, action, kind] = /^key\.(add|remove|set)_(permissions|roles)$/.exec(event)!
    const names = changed.map((r) => r.name).join(', ') || 'none'
    const description =
      action === 'set'
        ? `Set the ${kind} of key ${keyId} to ${names}`
        : action === 'add'
          ? `Added ${kind} ${names} to key ${keyId}`
          : `Removed ${kind} ${names} from key ${keyId}`
    return this.audit.record({ workspaceId, event, resources: [keyResource({ id: keyId }), ...changed], description })
  }
}

const ids = (items: { id: string }[]) => items.map((i) => i.id)
