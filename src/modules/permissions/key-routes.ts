// HTTP controller for a key's direct permissions and roles: keys.addPermissions,
// removePermissions, setPermissions, addRoles, removeRoles, setRoles. Every
// route needs update_key on the key's API (as keys.updateKey does) plus, where
// the upstream asks for it, the matching `rbac.*` permission. Mounted by
// permissionsRoutes.
import { Elysia } from 'elysia'
import type { AppServices } from '../../app'
import { ok } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { keyPermission } from '../keys/access'
import { needs } from '../rootkeys/permissions'
import { creatingPermissions, mayCreatePermissions } from './access'
import * as m from './model'
import { roleView } from './view'

export function keyAccessRoutes(services: AppServices, prefix: string) {
  const { keys, rbac } = services
  const rbacNeeds = (action: string) => needs('rbac', action)

  /** The live key of the caller's workspace (404 otherwise); after `change`, its cache entry is dropped. */
  const changeKey = <T>(workspaceId: string, keyId: string, change: (keyId: string) => T): T => {
    const key = keys.require(workspaceId, keyId)
    const result = change(key.id)
    keys.cache.invalidateKey(key.id)
    return result
  }

  return new Elysia({ name: `key-access${prefix}`, prefix, detail: { tags: ['keys'] } } as never)
    .use(services.auth)
    .post(
      '/keys.addPermissions',
      ({ body, auth, request }) =>
        ok(
          request,
          changeKey(auth.workspaceId, body.keyId, (keyId) =>
            rbac.addKeyPermissions(auth.workspaceId, keyId, body.permissions, mayCreatePermissions(auth)),
          ),
        ),
      {
        permission: creatingPermissions(rbac, keyPermission(keys, 'update_key', rbacNeeds('add_permission_to_key'))),
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
      ({ body, auth, request }) =>
        ok(
          request,
          changeKey(auth.workspaceId, body.keyId, (keyId) => rbac.removeKeyPermissions(auth.workspaceId, keyId, body.permissions)),
        ),
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
      ({ body, auth, request }) =>
        ok(
          request,
          changeKey(auth.workspaceId, body.keyId, (keyId) =>
            rbac.replaceKeyPermissions(auth.workspaceId, keyId, body.permissions, mayCreatePermissions(auth)),
          ),
        ),
      {
        permission: creatingPermissions(
          rbac,
          keyPermission(keys, 'update_key', rbacNeeds('add_permission_to_key'), rbacNeeds('remove_permission_from_key')),
        ),
        body: m.SetKeyPermissionsBody,
        response: responses(m.PermissionsResponse, 404),
        detail: {
          summary: 'Replace a key’s permissions',
          description:
            'Makes the key’s direct permissions exactly the given slugs (creating unknown ones; an empty list clears them). Roles are not touched.',
        },
      },
    )
    .post(
      '/keys.addRoles',
      ({ body, auth, request }) =>
        ok(request, changeKey(auth.workspaceId, body.keyId, (keyId) => rbac.addKeyRoles(auth.workspaceId, keyId, body.roles).map(roleView))),
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
      ({ body, auth, request }) =>
        ok(request, changeKey(auth.workspaceId, body.keyId, (keyId) => rbac.removeKeyRoles(auth.workspaceId, keyId, body.roles).map(roleView))),
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
      ({ body, auth, request }) =>
        ok(request, changeKey(auth.workspaceId, body.keyId, (keyId) => rbac.replaceKeyRoles(auth.workspaceId, keyId, body.roles).map(roleView))),
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
