// HTTP controller for identities.createIdentity, getIdentity, listIdentities,
// updateIdentity and deleteIdentity.
import { Elysia } from 'elysia'
import { auditContextOf } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import { ok, okPage, requestIdOf } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { needs, resourcesGranted } from '../../rbac/grants'
import { wildcardPermission, type PermissionSpec } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import * as m from './model'
import { identityView } from './view'

export type IdentitiesRouteDeps = Pick<Services, 'identities'> & { auth: AuthPlugin }

export function identitiesRoutes(deps: IdentitiesRouteDeps, prefix: string) {
  const { identities } = deps

  // `identity.<id>.read_identity` works too. When the identity does not exist,
  // holding read_identity on any identity is enough to be told 404.
  const readIdentity: PermissionSpec<{ identity: string }> = {
    describe: "'identity.*.read_identity' or 'identity.<identity id>.read_identity'",
    requirement: async ({ body, auth }) => {
      const found = await identities.find(auth.workspaceId, body.identity)
      return found ? needs('identity', 'read_identity', found.id) : { anyResource: { type: 'identity', action: 'read_identity' } }
    },
  }

  return new Elysia({ name: `identities${prefix}`, prefix, detail: { tags: ['identities'] } } as never)
    .use(deps.auth)
    .post(
      '/identities.createIdentity',
      async ({ body, auth, request, server }) => {
        const identity = await withActor(auditContextOf(auth, request, server), () => identities.create(auth.workspaceId, body))
        return ok(request, { identityId: identity.id })
      },
      {
        permission: wildcardPermission('identity', 'create_identity'),
        body: m.CreateIdentityBody,
        response: responses(m.CreateIdentityResponse, 409),
        detail: {
          summary: 'Create an identity',
          description:
            'Creates an identity for one of your users or organisations, with optional meta and ratelimits that all of its keys share. The externalId must not be in use (409 otherwise).',
        },
      },
    )
    .post(
      '/identities.getIdentity',
      async ({ body, auth, request }) => ok(request, identityView(await identities.getDetails(auth.workspaceId, body.identity))),
      {
        permission: readIdentity,
        body: m.GetIdentityBody,
        response: responses(m.IdentityEnvelope, 404),
        detail: { summary: 'Get an identity', description: 'Looks an identity up by its id or its externalId; returns its meta and ratelimits.' },
      },
    )
    .post(
      '/identities.listIdentities',
      async ({ body, auth, request }) => {
        const page = await identities.list(
          auth.workspaceId,
          { ...body, limit: body.limit ?? 100 },
          resourcesGranted(auth.permissions, 'identity', 'read_identity'),
        )
        return okPage(request, { ...page, items: page.items.map(identityView) })
      },
      {
        permission: {
          describe: "'identity.*.read_identity', or 'identity.<identity id>.read_identity' (lists those identities only)",
          requirement: () => ({ anyResource: { type: 'identity', action: 'read_identity' } }),
        },
        body: m.ListIdentitiesBody,
        response: responses(m.ListIdentitiesResponse),
        detail: {
          summary: 'List identities',
          description:
            'Pages through the workspace’s identities in id order; `search` keeps those whose id or externalId contains the text. A root key with `identity.<id>.read_identity` grants only (no wildcard) lists those identities alone.',
        },
      },
    )
    .post(
      '/identities.updateIdentity',
      async ({ body, auth, request, server }) => {
        const { identity, ...update } = body
        return ok(request, identityView(await withActor(auditContextOf(auth, request, server), () => identities.update(auth.workspaceId, identity, update))))
      },
      {
        permission: wildcardPermission('identity', 'update_identity'),
        body: m.UpdateIdentityBody,
        response: responses(m.IdentityEnvelope, 404),
        detail: {
          summary: 'Update an identity',
          description:
            'Replaces the meta and/or the ratelimits given (ratelimits are matched by name; names left out are removed). Linked keys verify with the new values at once.',
        },
      },
    )
    .post(
      '/identities.deleteIdentity',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => identities.delete(auth.workspaceId, body.identity))
        return { meta: { requestId: requestIdOf(request) } }
      },
      {
        permission: wildcardPermission('identity', 'delete_identity'),
        body: m.DeleteIdentityBody,
        response: responses(m.DeleteIdentityResponse, 404),
        detail: {
          summary: 'Delete an identity',
          description:
            'Deletes an identity and its ratelimits; its keys keep working without it, and the externalId can be used again. Answers with `meta` only.',
        },
      },
    )
}
