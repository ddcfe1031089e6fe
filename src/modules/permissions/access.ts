// Root-key requirements shared by the RBAC routes. Creating permissions on the
// fly (createRole, setRolePermissions, keys.addPermissions/setPermissions)
// needs `rbac.*.create_permission` on top of the route's own permission, but
// only when a slug is new: checked before the handler (so 403 comes before
// 404) and again inside the writing transaction (so nothing new slips in
// between).
import { enforce, type AuthContext, type PermissionSpec } from '../../http/auth'
import { allOf, needs, type Requirement } from '../rootkeys/permissions'
import type { BeforeCreatePermissions, RbacService } from './service'

export const CREATE_PERMISSION = needs('rbac', 'create_permission')

/** `requirements`, plus `rbac.*.create_permission` when any of `slugs` is new to the workspace. */
export function withCreation(rbac: RbacService, workspaceId: string, slugs: string[] | undefined, ...requirements: Requirement[]): Requirement {
  const creates = slugs !== undefined && rbac.unknownSlugs(workspaceId, slugs).length > 0
  const all = creates ? [...requirements, CREATE_PERMISSION] : requirements
  return all.length === 1 ? all[0]! : allOf(...all)
}

/** Adds the on-the-fly creation requirement to a route's permission spec; the slugs are `body.permissions`. */
export function creatingPermissions<B>(rbac: RbacService, spec: PermissionSpec<B>): PermissionSpec<B & { permissions?: string[] }> {
  return {
    describe: `${spec.describe}, and 'rbac.*.create_permission' when a slug is new`,
    requirement: (input) => withCreation(rbac, input.auth.workspaceId, input.body.permissions, spec.requirement(input)),
  }
}

/** The in-transaction check handed to RbacService: refuses to create permissions without the grant. */
export const mayCreatePermissions =
  (auth: AuthContext): BeforeCreatePermissions =>
  () =>
    enforce(auth, CREATE_PERMISSION)
