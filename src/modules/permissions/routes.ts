// HTTP controller for permissions.* (end-user permissions and roles). A key's
// permissions and roles (keys.*Permissions / keys.*Roles) are
// src/modules/keys/access-routes.ts.
import { Elysia } from 'elysia'
import { auditContextOf } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import { ok, okPage } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { allOf, needs } from '../../rbac/grants'
import { creatingPermissions, mayCreatePermissions, wildcardPermission, withCreation, type PermissionSpec } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import * as m from './model'
import { roleView } from './view'

export type PermissionsRouteDeps = Pick<Services, 'permissions'> & { auth: AuthPlugin }

export function permissionsRoutes(deps: PermissionsRouteDeps, prefix: string) {
  const { permissions } = deps

  const createRolePermission: PermissionSpec<{ permissions?: string[] }> = {
    describe: "'rbac.*.create_role'; with permissions also 'rbac.*.add_permission_to_role', and 'rbac.*.create_permission' when a slug is new",
    requirement: ({ body, auth }) =>
      body.permissions?.length
        ? withCreation(permissions, auth.workspaceId, body.permissions, needs('rbac', 'create_role'), needs('rbac', 'add_permission_to_role'))
        : needs('rbac', 'create_role'),
  }

  const setRolePermissionsPermission = creatingPermissions<{ permissions: string[] }>(permissions, {
    describe: "'rbac.*.add_permission_to_role' and 'rbac.*.remove_permission_from_role'",
    requirement: () => allOf(needs('rbac', 'add_permission_to_role'), needs('rbac', 'remove_permission_from_role')),
  })

  return new Elysia({ name: `permissions${prefix}`, prefix, detail: { tags: ['permissions'] } } as never)
    .use(deps.auth)
    .post(
      '/permissions.createPermission',
      async ({ body, auth, request, server }) => {
        const permission = await withActor(auditContextOf(auth, request, server), () => permissions.createPermission(auth.workspaceId, body))
        return ok(request, { permissionId: permission.id })
      },
      {
        permission: wildcardPermission('rbac', 'create_permission'),
        body: m.CreatePermissionBody,
        response: responses(m.CreatePermissionResponse, 409),
        detail: {
          summary: 'Create a permission',
          description: 'Adds a permission that keys and roles can be granted. Its slug must be new to the workspace (409 otherwise).',
        },
      },
    )
    .post('/permissions.getPermission', async ({ body, auth, request }) => ok(request, await permissions.getPermission(auth.workspaceId, body.permission)), {
      permission: wildcardPermission('rbac', 'read_permission'),
      body: m.GetPermissionBody,
      response: responses(m.GetPermissionResponse, 404),
      detail: { summary: 'Get a permission', description: 'Looks a permission up by its id or its slug.' },
    })
    .post(
      '/permissions.listPermissions',
      async ({ body, auth, request }) => okPage(request, await permissions.listPermissions(auth.workspaceId, { ...body, limit: body.limit ?? 100 })),
      {
        permission: wildcardPermission('rbac', 'read_permission'),
        body: m.ListPermissionsBody,
        response: responses(m.ListPermissionsResponse),
        detail: {
          summary: 'List permissions',
          description: 'Pages through the workspace’s permissions in id order, optionally only those whose name or slug contains `search`.',
        },
      },
    )
    .post(
      '/permissions.deletePermission',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => permissions.deletePermission(auth.workspaceId, body.permission))
        return ok(request, {})
      },
      {
        permission: wildcardPermission('rbac', 'delete_permission'),
        body: m.DeletePermissionBody,
        response: responses(m.DeletePermissionResponse, 404),
        detail: {
          summary: 'Delete a permission',
          description: 'Removes a permission (by id or slug) from every key and role that had it; keys stop passing checks for it at once.',
        },
      },
    )
    .post(
      '/permissions.createRole',
      async ({ body, auth, request, server }) => {
        const role = await withActor(auditContextOf(auth, request, server), () => permissions.createRole(auth.workspaceId, body, mayCreatePermissions(auth)))
        return ok(request, { roleId: role.id })
      },
      {
        permission: createRolePermission,
        body: m.CreateRoleBody,
        response: responses(m.CreateRoleResponse, 409),
        detail: {
          summary: 'Create a role',
          description: 'Adds a named set of permissions. Slugs that do not exist yet are created along with it. The name must be new (409 otherwise).',
        },
      },
    )
    .post('/permissions.getRole', async ({ body, auth, request }) => ok(request, roleView(await permissions.getRole(auth.workspaceId, body.role))), {
      permission: wildcardPermission('rbac', 'read_role'),
      body: m.GetRoleBody,
      response: responses(m.GetRoleResponse, 404),
      detail: { summary: 'Get a role', description: 'Looks a role up by its id or its name and returns it with its permissions.' },
    })
    .post(
      '/permissions.listRoles',
      async ({ body, auth, request }) => {
        const page = await permissions.listRoles(auth.workspaceId, { ...body, limit: body.limit ?? 100 })
        return okPage(request, { ...page, items: page.items.map(roleView) })
      },
      {
        permission: wildcardPermission('rbac', 'read_role'),
        body: m.ListRolesBody,
        response: responses(m.ListRolesResponse),
        detail: {
          summary: 'List roles',
          description: 'Pages through the workspace’s roles in id order, each with its permissions; `search` filters by name.',
        },
      },
    )
    .post(
      '/permissions.deleteRole',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => permissions.deleteRole(auth.workspaceId, body.role))
        return ok(request, {})
      },
      {
        permission: wildcardPermission('rbac', 'delete_role'),
        body: m.DeleteRoleBody,
        response: responses(m.DeleteRoleResponse, 404),
        detail: {
          summary: 'Delete a role',
          description: 'Removes a role (by id or name) and takes it away from every key; the permissions themselves stay.',
        },
      },
    )
    .post(
      '/permissions.setRolePermissions',
      async ({ body, auth, request, server }) =>
        ok(
          request,
          await withActor(auditContextOf(auth, request, server), () =>
            permissions.setRolePermissions(auth.workspaceId, body.roleId, body.permissions, mayCreatePermissions(auth)),
          ),
        ),
      {
        permission: setRolePermissionsPermission,
        body: m.SetRolePermissionsBody,
        response: responses(m.PermissionsResponse, 404),
        detail: {
          summary: 'Replace a role’s permissions',
          description:
            'Makes the role grant exactly the given slugs (creating unknown ones) and returns them. Keys holding the role see the change on their next verification.',
        },
      },
    )
}
