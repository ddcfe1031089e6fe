// HTTP controller for apis.createApi, getApi, listApis, updateApi and deleteApi.
import { Elysia } from 'elysia'
import { auditContextOf } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import { ok, okPage } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { resourcesGranted } from '../../rbac/grants'
import { anyResourcePermission, permissionOn, wildcardPermission } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import * as m from './model'
import { apiView } from './view'

export type ApisRouteDeps = Pick<Services, 'apis'> & { auth: AuthPlugin }

export function apisRoutes(deps: ApisRouteDeps, prefix: string) {
  const { apis } = deps
  return new Elysia({ name: `apis${prefix}`, prefix, detail: { tags: ['apis'] } } as never)
    .use(deps.auth)
    .post(
      '/apis.createApi',
      async ({ body, auth, request, server }) => {
        const api = await withActor(auditContextOf(auth, request, server), () => apis.create(auth.workspaceId, body.name))
        return ok(request, { apiId: api.id })
      },
      {
        permission: wildcardPermission('api', 'create_api'),
        body: m.CreateApiBody,
        response: responses(m.CreateApiResponse),
        detail: { summary: 'Create an API', description: 'Creates an API, the container that keys are issued for.' },
      },
    )
    .post(
      '/apis.getApi',
      async ({ body, auth, request }) => {
        const api = await apis.get(auth.workspaceId, body.apiId)
        return ok(request, { id: api.id, name: api.name })
      },
      {
        permission: permissionOn('api', 'read_api', 'apiId'),
        body: m.GetApiBody,
        response: responses(m.GetApiResponse, 404),
        detail: { summary: 'Get an API', description: 'Returns the id and name of an API.' },
      },
    )
    .post(
      '/apis.listApis',
      async ({ body, auth, request }) => {
        const only = resourcesGranted(auth.permissions, 'api', 'read_api')
        const page = await apis.list(auth.workspaceId, { cursor: body.cursor, limit: body.limit ?? 100 }, only)
        return okPage(request, { ...page, items: page.items.map(apiView) })
      },
      {
        permission: anyResourcePermission('api', 'read_api'),
        body: m.ListApisBody,
        response: responses(m.ListApisResponse),
        detail: {
          summary: 'List APIs',
          description:
            'Pages through the workspace’s APIs in id order (deleted ones are left out). A root key with `api.<apiId>.read_api` grants only (no wildcard) lists those APIs alone.',
        },
      },
    )
    .post(
      '/apis.updateApi',
      async ({ body, auth, request, server }) => {
        const { apiId, ...update } = body
        const api = await withActor(auditContextOf(auth, request, server), () => apis.update(auth.workspaceId, apiId, update))
        return ok(request, apiView(api))
      },
      {
        permission: permissionOn('api', 'update_api', 'apiId'),
        body: m.UpdateApiBody,
        response: responses(m.UpdateApiResponse, 404),
        detail: {
          summary: 'Update an API',
          description: 'Renames an API and/or turns its delete protection on or off (give at least one of them); returns the API afterwards.',
        },
      },
    )
    .post(
      '/apis.deleteApi',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => apis.delete(auth.workspaceId, body.apiId))
        return ok(request, {})
      },
      {
        permission: permissionOn('api', 'delete_api', 'apiId'),
        body: m.DeleteApiBody,
        response: responses(m.DeleteApiResponse, 404, 412),
        detail: {
          summary: 'Delete an API',
          description: 'Deletes an API. All of its keys stop verifying at once (they answer NOT_FOUND).',
        },
      },
    )
}
