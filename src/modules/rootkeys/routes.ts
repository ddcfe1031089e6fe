// HTTP controller for rootKeys.whoami, createRootKey, listRootKeys,
// revokeRootKey and rotateRootKey. The rules (workspace scope, no escalation,
// cache invalidation) are RootKeyService's, shared with the CLI.
import { Elysia } from 'elysia'
import { auditContextOf } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import { ok, okPage } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { allOf, needs } from '../../rbac/grants'
import { wildcardPermission, type PermissionSpec } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import * as m from './model'
import { rootKeyView } from './view'

export type RootKeysRouteDeps = Pick<Services, 'rootKeys' | 'clock'> & { auth: AuthPlugin }

const HOLDS_ITS_PERMISSIONS = 'The calling key must hold every permission of the key it acts on itself (403 naming the first it lacks).'

/** Any valid root key may describe itself. */
const anyRootKey: PermissionSpec = { describe: 'none (any valid root key; it describes itself only)', requirement: () => allOf() }

const rotatePermission: PermissionSpec = {
  describe: "'root_key.*.create_root_key' and 'root_key.*.delete_root_key', and every permission of the key rotated",
  requirement: () => allOf(needs('root_key', 'create_root_key'), needs('root_key', 'delete_root_key')),
}

export function rootKeysRoutes(deps: RootKeysRouteDeps, prefix: string) {
  const { rootKeys, clock } = deps
  return new Elysia({ name: `rootKeys${prefix}`, prefix, detail: { tags: ['rootKeys'] } } as never)
    .use(deps.auth)
    .post(
      '/rootKeys.whoami',
      async ({ auth, request }) => {
        const { workspace, ...key } = await rootKeys.describe(auth)
        return ok(request, { ...rootKeyView(key), workspace })
      },
      {
        permission: anyRootKey,
        body: m.WhoamiBody,
        response: responses(m.WhoamiResponse),
        detail: {
          summary: 'Describe the calling root key',
          description: 'Returns the calling root key (never its secret), its permissions and its workspace. Needs no permission.',
        },
      },
    )
    .post(
      '/rootKeys.createRootKey',
      async ({ body, auth, request, server }) => {
        const input = {
          workspace: auth.workspaceId,
          name: body.name,
          permissions: body.permissions,
          expiresAt: body.expiresIn === undefined ? null : clock.now() + body.expiresIn,
        }
        return ok(request, await withActor(auditContextOf(auth, request, server), () => rootKeys.create(input, auth)))
      },
      {
        permission: { ...wildcardPermission('root_key', 'create_root_key'), describe: "'root_key.*.create_root_key', and every permission granted" },
        body: m.CreateRootKeyBody,
        response: responses(m.CreateRootKeyResponse),
        detail: {
          summary: 'Create a root key',
          description: `Creates a root key in the caller's workspace and returns it once. A key can grant only what it holds itself: \`*\` only from \`*\`, \`api.<id>.read_api\` from \`api.*.read_api\` or itself. A key that expires cannot create one that outlives it.`,
        },
      },
    )
    .post(
      '/rootKeys.listRootKeys',
      async ({ body, auth, request }) => {
        const page = await rootKeys.page(auth.workspaceId, { cursor: body.cursor, limit: body.limit ?? 100 })
        return okPage(request, { ...page, items: page.items.map(rootKeyView) })
      },
      {
        permission: wildcardPermission('root_key', 'read_root_key'),
        body: m.ListRootKeysBody,
        response: responses(m.ListRootKeysResponse),
        detail: {
          summary: 'List root keys',
          description:
            "Pages through the workspace's root keys in id order, revoked and expired ones included: each key's start (never its secret), permissions and times.",
        },
      },
    )
    .post(
      '/rootKeys.revokeRootKey',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => rootKeys.revoke(body.rootKeyId, auth))
        return ok(request, {})
      },
      {
        permission: { ...wildcardPermission('root_key', 'delete_root_key'), describe: "'root_key.*.delete_root_key', and every permission of the key revoked" },
        body: m.RevokeRootKeyBody,
        response: responses(m.RevokeRootKeyResponse, 404),
        detail: {
          summary: 'Revoke a root key',
          description: `Revokes a root key of the workspace; it stops working with the very next request. Revoking a revoked key changes nothing. A key may revoke itself. ${HOLDS_ITS_PERMISSIONS}`,
        },
      },
    )
    .post(
      '/rootKeys.rotateRootKey',
      async ({ body, auth, request, server }) => {
        const grace = body.gracePeriodMs ?? 0
        return ok(request, await withActor(auditContextOf(auth, request, server), () => rootKeys.rotate(body.rootKeyId, grace, { issuer: auth })))
      },
      {
        permission: rotatePermission,
        body: m.RotateRootKeyBody,
        response: responses(m.RotateRootKeyResponse, 404),
        detail: {
          summary: 'Rotate a root key',
          description: `Issues a new key with the same name, permissions and expiry and returns it once; the old key stops working at once or after \`gracePeriodMs\` (at most 7 days), so that clients can switch over. ${HOLDS_ITS_PERMISSIONS}`,
        },
      },
    )
}
