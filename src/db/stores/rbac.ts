// End-user RBAC tables: permissions, roles, roles_permissions, and a key's
// direct grants (keys_permissions, keys_roles). One store for all five, so
// that a key's effective access (direct permissions plus its roles') stays one
// query. Deleting a permission or role detaches it everywhere (foreign-key
// cascades).
import type { ListInput, Page } from '../pagination'

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

/** What verification checks a key against. */
export interface KeyAccess {
  /** Effective permission slugs: direct ones and those of the key's roles, deduplicated, sorted. */
  permissions: string[]
  /** Role names, sorted. */
  roles: string[]
}

export interface RbacStore {
  // ---- the catalogue -------------------------------------------------------------
  insertPermission(workspaceId: string, permission: Permission, createdAt: number): Promise<void>
  findPermissionBySlug(workspaceId: string, slug: string): Promise<Permission | null>
  /** The permission with this id or slug; an id match wins over a slug equal to it. */
  findPermission(workspaceId: string, idOrSlug: string): Promise<Permission | null>
  /** Ordered by id; `search` matches id, name, slug or description (case-insensitive). */
  listPermissions(workspaceId: string, input: ListInput): Promise<Page<Permission>>
  deletePermission(permissionId: string): Promise<void>

  insertRole(workspaceId: string, role: Role, createdAt: number): Promise<void>
  findRoleByName(workspaceId: string, name: string): Promise<Role | null>
  /** The role with this id or name; an id match wins over a name equal to it. */
  findRole(workspaceId: string, idOrName: string): Promise<Role | null>
  /** Ordered by id; `search` matches id, name or description (case-insensitive). */
  listRoles(workspaceId: string, input: ListInput): Promise<Page<Role>>
  deleteRole(roleId: string): Promise<void>
  /** The role's permissions, sorted by slug. */
  rolePermissions(roleId: string): Promise<Permission[]>
  /** Adds permissions to the role (already granted ones are kept). */
  addRolePermissions(roleId: string, permissionIds: string[]): Promise<void>
  /** Makes the role's permissions exactly these and records the change time; atomic. */
  setRolePermissions(roleId: string, permissionIds: string[], updatedAt: number): Promise<void>

  // ---- a key's grants ----------------------------------------------------------------
  /** The key's direct permissions, sorted by slug. */
  keyPermissions(keyId: string): Promise<Permission[]>
  /** The key's roles, sorted by name. */
  keyRoles(keyId: string): Promise<Role[]>
  addKeyPermissions(keyId: string, permissionIds: string[]): Promise<void>
  removeKeyPermissions(keyId: string, permissionIds: string[]): Promise<void>
  /** Makes the key's direct permissions exactly these; atomic. */
  setKeyPermissions(keyId: string, permissionIds: string[]): Promise<void>
  addKeyRoles(keyId: string, roleIds: string[]): Promise<void>
  removeKeyRoles(keyId: string, roleIds: string[]): Promise<void>
  /** Makes the key's roles exactly these; atomic. */
  setKeyRoles(keyId: string, roleIds: string[]): Promise<void>
  /** Gives `toKeyId` the direct permissions and roles of `fromKeyId` as well; atomic. */
  copyKeyGrants(fromKeyId: string, toKeyId: string): Promise<void>
  keyAccess(keyId: string): Promise<KeyAccess>
}
