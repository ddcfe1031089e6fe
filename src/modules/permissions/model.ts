// Request and response schemas of permissions.* and of the keys.*Permissions /
// keys.*Roles routes, declared once.
import { t } from 'elysia'
import { body, EmptyEnvelope, envelope, Int, paginated } from '../../http/schemas'
import { KeyId, PermissionSlug, SLUG_RULES } from '../keys/model'

const Slugs = (description: string, options: { minItems?: number; maxItems?: number } = {}) =>
  t.Array(PermissionSlug, { maxItems: 1000, ...options, description })
const RoleRef = t.String({ minLength: 1, maxLength: 128, description: 'A role name or id.' })
const RoleRefs = (description: string, minItems?: number) =>
  t.Array(RoleRef, { maxItems: 100, ...(minItems ? { minItems } : {}), description })
const Description = t.String({ maxLength: 512, description: 'Free text for your own reference.' })

export const Permission = t.Object({
  id: t.String(),
  name: t.String(),
  slug: t.String(),
  description: t.Optional(t.String()),
})

export const Role = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.Optional(t.String()),
  permissions: t.Optional(t.Array(Permission, { description: 'The role’s permissions; absent when it has none.' })),
})

const ListBody = (searchDescription: string) =>
  body({
    limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 100, description: 'Page size.' })),
    cursor: t.Optional(t.String({ maxLength: 1024, description: 'The `pagination.cursor` of the previous page.' })),
    search: t.Optional(t.String({ maxLength: 256, description: searchDescription })),
  })

// ---- permissions.* -----------------------------------------------------------------

export const CreatePermissionBody = body({
  name: t.String({ minLength: 1, maxLength: 512, description: 'A readable name.' }),
  slug: t.String({ ...SLUG_RULES, description: 'What keys are checked against; unique in the workspace.' }),
  description: t.Optional(Description),
})
export const CreatePermissionResponse = envelope(t.Object({ permissionId: t.String() }))

const PermissionRef = t.String({ ...SLUG_RULES, description: 'The permission id or slug.' })
export const GetPermissionBody = body({ permission: PermissionRef })
export const GetPermissionResponse = envelope(Permission)

export const ListPermissionsBody = ListBody('Only permissions whose id, name, slug or description contains this text (case-insensitive).')
export const ListPermissionsResponse = paginated(Permission)

export const DeletePermissionBody = body({ permission: PermissionRef })
export const DeletePermissionResponse = EmptyEnvelope

export const CreateRoleBody = body({
  name: t.String({ minLength: 1, maxLength: 128, description: 'Unique in the workspace.' }),
  description: t.Optional(Description),
  permissions: t.Optional(Slugs('Permission slugs the role grants; unknown ones are created.')),
})
export const CreateRoleResponse = envelope(t.Object({ roleId: t.String() }))

export const GetRoleBody = body({ role: RoleRef })
export const GetRoleResponse = envelope(Role)

export const ListRolesBody = ListBody('Only roles whose id, name or description contains this text (case-insensitive).')
export const ListRolesResponse = paginated(Role)

export const DeleteRoleBody = body({ role: RoleRef })
export const DeleteRoleResponse = EmptyEnvelope

export const SetRolePermissionsBody = body({
  roleId: t.String({ minLength: 3, maxLength: 255, pattern: '^[a-zA-Z0-9_-]+$', description: 'The role id or name.' }),
  permissions: Slugs('The complete set of slugs the role grants afterwards; unknown ones are created, an empty list clears.'),
})
export const PermissionsResponse = envelope(t.Array(Permission))

// ---- keys.*Permissions / keys.*Roles --------------------------------------------------

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
