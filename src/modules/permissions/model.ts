// Request and response schemas of permissions.*, declared once, and the slug
// and role-reference shapes that keys' schemas reuse (keys import from here,
// never the reverse).
import { t } from 'elysia'
import { body, EmptyEnvelope, envelope, Int, paginated } from '../../http/schemas'

export const SLUG_RULES = { minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9_:\\-\\.\\*]+$' }
export const PermissionSlug = t.String({ ...SLUG_RULES, description: 'A permission slug: letters, digits and `_ : - . *`.' })

export const Slugs = (description: string, options: { minItems?: number; maxItems?: number } = {}) =>
  t.Array(PermissionSlug, { maxItems: 1000, ...options, description })
const RoleRef = t.String({ minLength: 1, maxLength: 128, description: 'A role name or id.' })
export const RoleRefs = (description: string, minItems?: number) => t.Array(RoleRef, { maxItems: 100, ...(minItems ? { minItems } : {}), description })
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
export type CreatePermissionInput = typeof CreatePermissionBody.static
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
export type CreateRoleInput = typeof CreateRoleBody.static
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
/** Also the answer of keys.addPermissions, removePermissions and setPermissions. */
export const PermissionsResponse = envelope(t.Array(Permission))
