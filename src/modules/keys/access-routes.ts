// HTTP controller for a key's direct permissions and roles: keys.addPermissions,
// removePermissions, setPermissions, addRoles, removeRoles, setRoles. Every
// route needs update_key on the key's API (as keys.updateKey does) plus, where
// the upstream asks for it, the matching `rbac.*` permission.
import { Elysia } from 'elysia'
import { auditContextOf } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import { ok } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { needs } from '../../rbac/grants'
import { creatingPermissions, keyPermission, mayCreatePermissions } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import { roleView } from '../permissions/view'
import * as m from './access-model'

export type KeyAccessRouteDeps = Pick<Services, 'keys' | 'keyAccess' | 'permissions'> & { auth: AuthPlugin }

export function keyAccessRoutes(deps: KeyAccessRouteDeps, prefix: string) {
  const { keys, keyAccess, permissions } = deps
  const rbacNeeds = (action: string) => needs('rbac', action)

  return new Elysia({ name: `key-access${prefix}`, prefix, detail: { tags: ['keys'] } } as never)
    .use(deps.auth)
    .post(
      '/keys.addPermissions',
      async ({ body, auth, request, server }) => {
        const key = await keys.get(auth.workspaceId, body.keyId)
        const caller = auditContextOf(auth, request, server)
        return ok(request, await withActor(caller, () => keyAccess.addPermissions(auth.workspaceId, key.id, body.permissions, mayCreatePermissions(auth))))
      },
      {
        permission: creatingPermissions(permissions, keyPermission(keys, 'update_key', rbacNeeds('add_permission_to_key'))),
        body: m.AddKeyPermissionsBody,
        response: responses(m.PermissionsResponse, 404),
        detail: {
          summary: 'Grant permissions to a key',
          description:
            'Gives the key these permissions directly, creating slugs that do not exist yet. Returns all of the key’s direct permissions afterwards.',
        },
      },
    )
    .post(
      '/keys.removePermissions',
      async ({ body, auth, request, server }) => {
        const key = await keys.get(auth.workspaceId, body.keyId)
        const caller = auditContextOf(auth, request, server)
        return ok(request, await withActor(caller, () => keyAccess.removePermissions(auth.workspaceId, key.id, body.permissions)))
      },
      {
        permission: keyPermission(keys, 'update_key', rbacNeeds('remove_permission_from_key')),
        body: m.RemoveKeyPermissionsBody,
        response: responses(m.PermissionsResponse, 404),
        detail: {
          summary: 'Take permissions from a key',
          description:
            'Removes direct permissions (by slug or id) from the key; permissions it has through roles stay. Returns the remaining direct permissions.',
        },
      },
    )
    .post(
      '/keys.setPermissions',
      async ({ body, auth, request, server }) => {
        const key = await keys.get(auth.workspaceId, body.keyId)
        const caller = auditContextOf(auth, request, server)
        return ok(request, await withActor(caller, () => keyAccess.replacePermissions(auth.workspaceId, key.id, body.permissions, mayCreatePermissions(auth))))
      },
      {
        permission: creatingPermissions(
          permissions,
          keyPermission(keys, 'update_key', rbacNeeds('add_permission_to_key'), rbacNeeds('remove_permission_from_key')),
        ),
        body: m.SetKeyPermissionsBody,
        response: responses(m.PermissionsResponse, 404),
        detail: {
          summary: 'Replace a key’s permissions',
          description: 'Makes the key’s direct permissions exactly the given slugs (creating unknown ones; an empty list clears them). Roles are not touched.',
        },
      },
    )
    .post(
      '/keys.addRoles',
      async ({ body, auth, request, server }) => {
        const key = await keys.get(auth.workspaceId, body.keyId)
        const caller = auditContextOf(auth, request, server)
        return ok(request, (await withActor(caller, () => keyAccess.addRoles(auth.workspaceId, key.id, body.roles))).map(roleView))
      },
      {
        permission: keyPermission(keys, 'update_key', rbacNeeds('add_role_to_key')),
        body: m.AddKeyRolesBody,
        response: responses(m.RolesResponse, 404),
        detail: {
          summary: 'Give roles to a key',
          description: 'Attaches existing roles (by name or id) to the key. Returns all of the key’s roles with their permissions.',
        },
      },
    )
    .post(
      '/keys.removeRoles',
      async ({ body, auth, request, server }) => {
        const key = await keys.get(auth.workspaceId, body.keyId)
        const caller = auditContextOf(auth, request, server)
        return ok(request, (await withActor(caller, () => keyAccess.removeRoles(auth.workspaceId, key.id, body.roles))).map(roleView))
      },
      {
        permission: keyPermission(keys, 'update_key'),
        body: m.RemoveKeyRolesBody,
        response: responses(m.RolesResponse, 404),
        detail: {
          summary: 'Take roles from a key',
          description: 'Detaches roles (by name or id) from the key. Returns the roles it still has.',
        },
      },
    )
    .post(
      '/keys.setRoles',
      async ({ body, auth, request, server }) => {
        const key = await keys.get(auth.workspaceId, body.keyId)
        const caller = auditContextOf(auth, request, server)
        return ok(request, (await withActor(caller, () => keyAccess.replaceRoles(auth.workspaceId, key.id, body.roles))).map(roleView))
      },
      {
        permission: keyPermission(keys, 'update_key'),
        body: m.SetKeyRolesBody,
        response: responses(m.RolesResponse, 404),
        detail: {
          summary: 'Replace a key’s roles',
          description: 'Makes the key’s roles exactly the given ones (by name or id; an empty list clears them). Returns them with their permissions.',
        },
      },
    )
}
