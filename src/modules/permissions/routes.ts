// HTTP controller for permissions.* (end-user permissions and roles). Also
// mounts the keys.*Permissions / keys.*Roles routes of key-routes.ts, so that
// the app wires RBAC with one `.use`.
import { Elysia } from 'elysia'
import type { AppServices } from '../../app'
import { wildcardPermission, type PermissionSpec } from '../../http/auth'
import { ok, okPage } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { allOf, needs } from '../rootkeys/permissions'
import { creatingPermissions, mayCreatePermissions, withCreation } from './access'
import { keyAccessRoutes } from './key-routes'
import * as m from './model'
import { roleView } from './view'

export function permissionsRoutes(services: AppServices, prefix: string) {
  const { rbac } = services

  const createRolePermission: PermissionSpec<{ permissions?: string[] }> = {
    describe:
      "'rbac.*.create_role'; with permissions also 'rbac.*.add_permission_to_role', and 'rbac.*.create_permission' when a slug is new",
    requirement: ({ body, auth }) =>
      body.permissions?.length
        ? withCreation(rbac, auth.workspaceId, body.permissions, needs('rbac', 'create_role'), needs('rbac', 'add_permission_to_role'))
        : needs('rbac', 'create_role'),
  }

  const setRolePermissionsPermission = creatingPermissions<{ permissions: string[] }>(rbac, {
    describe: "'rbac.*.add_permission_to_role' and 'rbac.*.remove_permission_from_role'",
    requirement: () => allOf(needs('rbac', 'add_permission_to_role'), needs('rbac', 'remove_permission_from_role')),
  })

  const routes = new Elysia({ name: `permissions${prefix}`, prefix, detail: { tags: ['permissions'] } } as never)
    .use(services.auth)
    .post(
      '/permissions.createPermission',
      ({ body, auth, request }) => ok(request, { permissionId: rbac.createPermission(auth.workspaceId, body).id }),
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
    .post('/permissions.getPermission', ({ body, auth, request }) => ok(request, rbac.getPermission(auth.workspaceId, body.permission)), {
      permission: wildcardPermission('rbac', 'read_permission'),
      body: m.GetPermissionBody,
      response: responses(m.GetPermissionResponse, 404),
      detail: { summary: 'Get a permission', description: 'Looks a permission up by its id or its slug.' },
    })
    .post('/permissions.listPermissions', ({ body, auth, request }) => okPage(request, rbac.listPermissions(auth.workspaceId, { ...body, limit: body.limit ?? 100 })), {
      permission: wildcardPermission('rbac', 'read_permission'),
      body: m.ListPermissionsBody,
      response: responses(m.ListPermissionsResponse),
      detail: {
        summary: 'List permissions',
        description: 'Pages through the workspace’s permissions in id order, optionally only those whose name or slug contains `search`.',
      },
    })
    .post(
      '/permissions.deletePermission',
      ({ body, auth, request }) => {
        rbac.deletePermission(auth.workspaceId, body.permission)
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
      ({ body, auth, request }) => ok(request, { roleId: rbac.createRole(auth.workspaceId, body, mayCreatePermissions(auth)).id }),
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
    .post('/permissions.getRole', ({ body, auth, request }) => ok(request, roleView(rbac.getRole(auth.workspaceId, body.role))), {
      permission: wildcardPermission('rbac', 'read_role'),
      body: m.GetRoleBody,
      response: responses(m.GetRoleResponse, 404),
      detail: { summary: 'Get a role', description: 'Looks a role up by its id or its name and returns it with its permissions.' },
    })
    .post(
      '/permissions.listRoles',
      ({ body, auth, request }) => {
        const page = rbac.listRoles(auth.workspaceId, { ...body, limit: body.limit ?? 100 })
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
      ({ body, auth, request }) => {
        rbac.deleteRole(auth.workspaceId, body.role)
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
      ({ body, auth, request }) =>
        ok(request, rbac.setRolePermissions(auth.workspaceId, body.roleId, body.permissions, mayCreatePermissions(auth))),
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

  return new Elysia({ name: `rbac${prefix}` } as never).use(routes).use(keyAccessRoutes(services, prefix))
}
