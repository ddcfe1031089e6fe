// How RBAC objects are sent: optional fields are left out when
// empty, never null (the official SDK rejects null).
import type { RoleWithPermissions } from './service'

/** A role with `permissions` left out when it has none. */
export function roleView(role: RoleWithPermissions) {
  const { permissions, ...rest } = role
  return permissions.length ? { ...rest, permissions } : rest
}
