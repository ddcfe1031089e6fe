// HTTP controller for ratelimit.limit, ratelimit.multiLimit, the namespace
// routes (list, delete) and the override routes (set, get, list, delete),
// plus the root-key permissions they need.
import { Elysia } from 'elysia'
import { auditContextOf, type PeerSource } from '../../http/audit-context'
import type { AuthPlugin } from '../../http/auth'
import type { HotRoute } from '../../http/hot-route'
import { ok, okPage, requestIdOf } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { allOf, needs, resourcesGranted, type Requirement } from '../../rbac/grants'
import { anyResourcePermission, type AuthContext, type PermissionSpec } from '../../rbac/requirements'
import type { Services } from '../../services'
import { withActor } from '../audit/context'
import * as m from './model'
import type { LimitCall, RatelimitNamespace, RatelimitService } from './service'
import { namespaceView, overrideView } from './view'

export type RatelimitRouteDeps = Pick<Services, 'ratelimit'> & { auth: AuthPlugin }

/**
 * `ratelimit.*.limit` or `ratelimit.<id>.limit` for every namespace named; a
 * namespace that does not exist yet also needs `ratelimit.*.create_namespace`
 * (and can only be covered by the wildcard, as nobody can hold its id yet).
 */
function limitRequirement(ratelimit: RatelimitService, workspaceId: string, namespaces: string[]): Requirement | Promise<Requirement> {
  // Cached namespaces (the common case) are answered at once; any other makes it a lookup.
  const cached = namespaces.map((name) => ratelimit.findNamespace(workspaceId, name))
  if (cached.some((n) => n instanceof Promise)) return Promise.all(cached).then((found) => namespaceRequirement(found))
  return namespaceRequirement(cached as (RatelimitNamespace | null)[])
}

function namespaceRequirement(found: (RatelimitNamespace | null)[]): Requirement {
  let creates = false
  const perNamespace = new Map<string, Requirement>()
  for (const namespace of found) {
    if (!namespace) creates = true
    perNamespace.set(namespace?.id ?? '*', needs('ratelimit', 'limit', namespace?.id))
  }
  return allOf(...(creates ? [needs('ratelimit', 'create_namespace')] : []), ...perNamespace.values())
}

function limitPermission<Body>(ratelimit: RatelimitService, namespacesOf: (body: Body) => string[]): PermissionSpec<Body> {
  return {
    describe: "'ratelimit.*.limit' or 'ratelimit.<namespace id>.limit' for each namespace; 'ratelimit.*.create_namespace' to create one on first use",
    requirement: ({ body, auth }) => limitRequirement(ratelimit, auth.workspaceId, namespacesOf(body)),
  }
}

const limitOnePermission = (ratelimit: RatelimitService) => limitPermission(ratelimit, (body: { namespace: string }) => [body.namespace])

type LimitInput = { body: typeof m.LimitBody.static; auth: AuthContext; request: Request; server?: PeerSource | null }

const limitView = ({ results: [result] }: LimitCall) => {
  const view: { limit: number; remaining: number; reset: number; success: boolean; overrideId?: string } = {
    limit: result!.limit,
    remaining: result!.remaining,
    reset: result!.reset,
    success: result!.passed,
  }
  if (result!.overrideId) view.overrideId = result!.overrideId
  return view
}

/** ratelimit.limit's work, for its Elysia route and its hot route: answered without awaiting when the namespace is cached. */
function limitOne(ratelimit: RatelimitService, { body, auth, request, server }: LimitInput) {
  // Audited only when the call creates the namespace (the decision itself is not a change): the context is made only then.
  const decided = ratelimit.limit(auth.workspaceId, [body], requestIdOf(request), () => auditContextOf(auth, request, server))
  return decided instanceof Promise ? decided.then(limitView) : limitView(decided)
}

/** ratelimit.limit as a hot route (src/http/hot-route.ts): the same schemas, requirement and work as its Elysia route. */
export function limitHotRoute(ratelimit: RatelimitService): HotRoute<typeof m.LimitBody.static, ReturnType<typeof limitView>> {
  return { body: m.LimitBody, response: m.LimitResponse, permission: limitOnePermission(ratelimit), run: (input) => limitOne(ratelimit, input) }
}

/**
 * `ratelimit.*.<action>` or `ratelimit.<namespace id>.<action>`. When the
 * namespace is missing or deleted, the action on any namespace is enough to
 * be told 404.
 */
function namespacePermission(ratelimit: RatelimitService, action: string): PermissionSpec<{ namespace: string }> {
  return {
    describe: `'ratelimit.*.${action}' or 'ratelimit.<namespace id>.${action}'`,
    requirement: async ({ body, auth }) => {
      const namespace = await ratelimit.findNamespace(auth.workspaceId, body.namespace)
      return namespace && namespace.deletedAt === null ? needs('ratelimit', action, namespace.id) : { anyResource: { type: 'ratelimit', action } }
    },
  }
}

export function ratelimitRoutes(deps: RatelimitRouteDeps, prefix: string) {
  const { ratelimit } = deps
  return new Elysia({ name: `ratelimit${prefix}`, prefix, detail: { tags: ['ratelimit'] } } as never)
    .use(deps.auth)
    .post('/ratelimit.limit', async ({ body, auth, request, server }) => ok(request, await limitOne(ratelimit, { body, auth, request, server })), {
      permission: limitOnePermission(ratelimit),
      body: m.LimitBody,
      response: responses(m.LimitResponse, 410),
      detail: {
        summary: 'Check and count one request against a limit',
        description:
          'Counts `cost` against the identifier in the namespace over a sliding window of `duration` ms and tells whether the request fits within `limit`. A refused request counts nothing. Always 200 for a decision: look at `success`. An override for the identifier replaces `limit` and `duration`. A namespace named for the first time is created when the root key may create namespaces.',
      },
    })
    .post(
      '/ratelimit.multiLimit',
      async ({ body, auth, request, server }) => {
        const { passed, results } = await ratelimit.limit(auth.workspaceId, body, requestIdOf(request), () => auditContextOf(auth, request, server))
        return ok(request, { passed, limits: results })
      },
      {
        permission: limitPermission(ratelimit, (body: { namespace: string }[]) => body.map((b) => b.namespace)),
        body: m.MultiLimitBody,
        response: responses(m.MultiLimitResponse, 410),
        detail: {
          summary: 'Check several limits at once',
          description:
            'Decides up to 100 limit checks together: either all of them are counted or, when any one is refused, none is. Every check reports its own outcome; `passed` is true only when all passed.',
        },
      },
    )
    .post(
      '/ratelimit.listNamespaces',
      async ({ body, auth, request }) => {
        const only = resourcesGranted(auth.permissions, 'ratelimit', 'read_namespace')
        const page = await ratelimit.listNamespaces(auth.workspaceId, { cursor: body.cursor, limit: body.limit ?? 100 }, only)
        return okPage(request, { ...page, items: page.items.map(namespaceView) })
      },
      {
        permission: anyResourcePermission('ratelimit', 'read_namespace'),
        body: m.ListNamespacesBody,
        response: responses(m.ListNamespacesResponse),
        detail: {
          summary: 'List ratelimit namespaces',
          description:
            'Pages through the workspace’s namespaces in id order (deleted ones are left out), each with its number of overrides. A root key with `ratelimit.<namespace id>.read_namespace` grants only (no wildcard) lists those namespaces alone.',
        },
      },
    )
    .post(
      '/ratelimit.deleteNamespace',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => ratelimit.deleteNamespace(auth.workspaceId, body.namespace))
        return ok(request, {})
      },
      {
        permission: namespacePermission(ratelimit, 'delete_namespace'),
        body: m.DeleteNamespaceBody,
        response: responses(m.DeleteNamespaceResponse, 404),
        detail: {
          summary: 'Delete a ratelimit namespace',
          description:
            'Deletes a namespace (named by name or id) and its overrides. `ratelimit.limit` answers 410 for it from then on, and its name cannot be used for a new namespace.',
        },
      },
    )
    .post(
      '/ratelimit.setOverride',
      async ({ body, auth, request, server }) => {
        const override = await withActor(auditContextOf(auth, request, server), () => ratelimit.setOverride(auth.workspaceId, body))
        return ok(request, { overrideId: override.id })
      },
      {
        permission: namespacePermission(ratelimit, 'set_override'),
        body: m.SetOverrideBody,
        response: responses(m.SetOverrideResponse, 404),
        detail: {
          summary: 'Set a custom limit for an identifier',
          description:
            'Gives one identifier, or every identifier matching a `*` pattern, its own limit and window in a namespace. Setting the same identifier again replaces the values and keeps the id. A limit of 0 refuses all requests.',
        },
      },
    )
    .post(
      '/ratelimit.getOverride',
      async ({ body, auth, request }) => ok(request, overrideView(await ratelimit.getOverride(auth.workspaceId, body.namespace, body.identifier))),
      {
        permission: namespacePermission(ratelimit, 'read_override'),
        body: m.GetOverrideBody,
        response: responses(m.GetOverrideResponse, 404),
        detail: {
          summary: 'Find the override for an identifier',
          description:
            'Returns the override that `ratelimit.limit` would apply to the identifier: one set for exactly that identifier, else the most specific matching pattern.',
        },
      },
    )
    .post(
      '/ratelimit.listOverrides',
      async ({ body, auth, request }) => {
        const page = await ratelimit.listOverrides(auth.workspaceId, { namespace: body.namespace, cursor: body.cursor, limit: body.limit ?? 10 })
        return okPage(request, { ...page, items: page.items.map(overrideView) })
      },
      {
        permission: namespacePermission(ratelimit, 'read_override'),
        body: m.ListOverridesBody,
        response: responses(m.ListOverridesResponse, 404),
        detail: {
          summary: 'List the overrides of a namespace',
          description: 'Pages through the overrides of a namespace in id order, 10 per page unless `limit` says otherwise (at most 100).',
        },
      },
    )
    .post(
      '/ratelimit.deleteOverride',
      async ({ body, auth, request, server }) => {
        await withActor(auditContextOf(auth, request, server), () => ratelimit.deleteOverride(auth.workspaceId, body.namespace, body.identifier))
        return ok(request, {})
      },
      {
        permission: namespacePermission(ratelimit, 'delete_override'),
        body: m.DeleteOverrideBody,
        response: responses(m.DeleteOverrideResponse, 404),
        detail: {
          summary: 'Delete an override',
          description:
            'Removes the override set for exactly this identifier (a pattern is named as written; it is not matched). Identifiers it covered fall back to other overrides or to the limit in the request.',
        },
      },
    )
}
