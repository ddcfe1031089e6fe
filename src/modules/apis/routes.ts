// HTTP controller for apis.createApi, apis.getApi and apis.deleteApi.
import { Elysia } from 'elysia'
import { auditContextOf } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import { ok } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { permissionOn, wildcardPermission } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import * as m from './model'

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
