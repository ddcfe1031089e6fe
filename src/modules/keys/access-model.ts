// Request and response schemas of the keys.*Permissions / keys.*Roles routes
// (a key's access), declared once. Slugs, role references and the shapes of
// permissions and roles come from the permissions module.
import { t } from 'elysia'
import { body, envelope } from '../../http/schemas'
import { Role, RoleRefs, Slugs } from '../permissions/model'
import { KeyId } from './model'

export { PermissionsResponse } from '../permissions/model'

export const AddKeyPermissionsBody = body({
  keyId: KeyId,
  permissions: Slugs('Slugs to grant the key directly; unknown ones are created.', { minItems: 1 }),
})
export const RemoveKeyPermissionsBody = body({
  keyId: KeyId,
  permissions: Slugs('Slugs or ids of direct permissions to take away; each must exist.', { minItems: 1 }),
})
export const SetKeyPermissionsBody = body({
  keyId: KeyId,
  permissions: Slugs('The complete set of the key’s direct permissions afterwards; unknown ones are created, an empty list clears.'),
})

export const AddKeyRolesBody = body({ keyId: KeyId, roles: RoleRefs('Roles to give the key; each must exist.', 1) })
export const RemoveKeyRolesBody = body({ keyId: KeyId, roles: RoleRefs('Roles to take away; each must exist.', 1) })
export const SetKeyRolesBody = body({ keyId: KeyId, roles: RoleRefs('The complete set of the key’s roles afterwards; an empty list clears.') })
export const RolesResponse = envelope(t.Array(Role))
