import { describe, expect, test } from 'bun:test'
import { describeSecurity } from '../../support/security'
import { Harness, notFoundBody, REQUEST_ID } from '../../support/harness'

const namespaceMissing = notFoundBody('ratelimit_namespace', 'This namespace does not exist.')
const limitBody = (namespace: string) => ({ namespace, identifier: 'user_1', limit: 10, duration: 60_000 })

/** Creates namespace `name` in the `ws` workspace through the API and returns its id. */
async function namespace(h: Harness, admin: string, name: string): Promise<string> {
  await h.ok('ratelimit.limit', { ...limitBody(name), cost: 0 }, admin)
  return (await h.services.ratelimit.findNamespace(await h.workspaceId('ws'), name))!.id
}

describeSecurity({
  rpc: 'ratelimit.limit',
  setup: async (h, admin) => ({ body: limitBody('email'), vars: { nsId: await namespace(h, admin, 'email') } }),
  allowed: [['*'], ['ratelimit.*.limit'], ['ratelimit.{nsId}.limit'], ['ratelimit.{nsId}.limit', 'ratelimit.*.create_namespace']],
  denied: [
    { grants: ['identity.*.read_identity'], missing: ['ratelimit.*.limit', 'ratelimit.{nsId}.limit'] },
    { grants: ['ratelimit.*.set_override', 'ratelimit.*.create_namespace'], missing: ['ratelimit.*.limit', 'ratelimit.{nsId}.limit'] },
    { grants: ['ratelimit.rlns_someother12.limit'], missing: ['ratelimit.*.limit', 'ratelimit.{nsId}.limit'] },
    { grants: ['api.*.verify_key'], missing: ['ratelimit.*.limit', 'ratelimit.{nsId}.limit'] },
  ],
  // Another workspace gets a namespace of its own with the same name.
  otherWorkspaceStatus: 200,
})

describe('ratelimit.limit on a namespace that does not exist yet', () => {
  describeSecurity({
    rpc: 'ratelimit.limit',
    setup: async () => ({ body: limitBody('brand-new') }),
    allowed: [['*'], ['ratelimit.*.limit', 'ratelimit.*.create_namespace']],
    denied: [
      { grants: ['ratelimit.*.limit'], missing: ['ratelimit.*.create_namespace'] },
      { grants: ['ratelimit.*.create_namespace'], missing: ['ratelimit.*.limit'] },
      { grants: ['ratelimit.*.create_namespace', 'ratelimit.rlns_someother12.limit'], missing: ['ratelimit.*.limit'] },
    ],
    otherWorkspaceStatus: 200,
  })
})

describeSecurity({
  rpc: 'ratelimit.multiLimit',
  setup: async (h, admin) => ({
    body: [limitBody('email'), limitBody('sms'), limitBody('email')],
    vars: { emailId: await namespace(h, admin, 'email'), smsId: await namespace(h, admin, 'sms') },
  }),
  allowed: [['*'], ['ratelimit.*.limit'], ['ratelimit.{emailId}.limit', 'ratelimit.{smsId}.limit']],
  denied: [
    { grants: ['identity.*.read_identity'], missing: ['ratelimit.*.limit', 'ratelimit.{emailId}.limit'] },
    { grants: ['ratelimit.{emailId}.limit'], missing: ['ratelimit.*.limit', 'ratelimit.{smsId}.limit'] },
    { grants: ['ratelimit.{smsId}.limit', 'ratelimit.*.set_override'], missing: ['ratelimit.*.limit', 'ratelimit.{emailId}.limit'] },
  ],
  otherWorkspaceStatus: 200,
})

describe('ratelimit.multiLimit naming a namespace that does not exist yet', () => {
  describeSecurity({
    rpc: 'ratelimit.multiLimit',
    setup: async (h, admin) => ({ body: [limitBody('email'), limitBody('brand-new')], vars: { emailId: await namespace(h, admin, 'email') } }),
    allowed: [['*'], ['ratelimit.*.limit', 'ratelimit.*.create_namespace']],
    denied: [
      { grants: ['ratelimit.*.limit'], missing: ['ratelimit.*.create_namespace'] },
      { grants: ['ratelimit.*.create_namespace', 'ratelimit.{emailId}.limit'], missing: ['ratelimit.*.limit'] },
    ],
    otherWorkspaceStatus: 200,
  })
})

const overrideRoutes = [
  { rpc: 'ratelimit.setOverride', action: 'set_override', body: { namespace: 'email', identifier: 'user_*', limit: 5, duration: 1000 } },
  { rpc: 'ratelimit.getOverride', action: 'read_override', body: { namespace: 'email', identifier: 'user_1' } },
  { rpc: 'ratelimit.listOverrides', action: 'read_override', body: { namespace: 'email' } },
  { rpc: 'ratelimit.deleteOverride', action: 'delete_override', body: { namespace: 'email', identifier: 'user_*' } },
] as const

for (const route of overrideRoutes) {
  const other = route.action === 'read_override' ? 'set_override' : 'read_override'
  describeSecurity({
    rpc: route.rpc,
    setup: async (h, admin) => {
      const nsId = await namespace(h, admin, 'email')
      await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: 'user_*', limit: 5, duration: 1000 }, admin)
      return { body: route.body, vars: { nsId } }
    },
    allowed: [['*'], [`ratelimit.*.${route.action}`], [`ratelimit.{nsId}.${route.action}`]],
    denied: [
      { grants: ['identity.*.read_identity'], missing: [`ratelimit.*.${route.action}`, `ratelimit.{nsId}.${route.action}`] },
      { grants: [`ratelimit.*.${other}`, 'ratelimit.*.limit'], missing: [`ratelimit.*.${route.action}`, `ratelimit.{nsId}.${route.action}`] },
      { grants: [`ratelimit.rlns_someother12.${route.action}`], missing: [`ratelimit.*.${route.action}`, `ratelimit.{nsId}.${route.action}`] },
    ],
    // The namespace of another workspace does not exist for this one.
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: namespaceMissing,
  })
}

describeSecurity({
  rpc: 'ratelimit.listNamespaces',
  setup: async (h, admin) => ({ body: {}, vars: { nsId: await namespace(h, admin, 'email') } }),
  // A per-namespace grant lists that namespace only (listNamespaces.test.ts).
  allowed: [['*'], ['ratelimit.*.read_namespace'], ['ratelimit.{nsId}.read_namespace'], ['ratelimit.rlns_someother12.read_namespace']],
  denied: [
    { grants: ['ratelimit.*.limit', 'ratelimit.*.read_override'], missing: ['ratelimit.*.read_namespace'] },
    { grants: ['api.*.read_api'], missing: ['ratelimit.*.read_namespace'] },
  ],
  // A key of another workspace lists its own (empty) workspace.
  otherWorkspaceStatus: 200,
  otherWorkspaceBody: { meta: { requestId: REQUEST_ID }, data: [], pagination: { hasMore: false } },
})

describeSecurity({
  rpc: 'ratelimit.deleteNamespace',
  setup: async (h, admin) => ({ body: { namespace: 'email' }, vars: { nsId: await namespace(h, admin, 'email') } }),
  allowed: [['*'], ['ratelimit.*.delete_namespace'], ['ratelimit.{nsId}.delete_namespace']],
  denied: [
    { grants: ['ratelimit.*.read_namespace', 'ratelimit.*.delete_override'], missing: ['ratelimit.*.delete_namespace', 'ratelimit.{nsId}.delete_namespace'] },
    { grants: ['ratelimit.rlns_someother12.delete_namespace'], missing: ['ratelimit.*.delete_namespace', 'ratelimit.{nsId}.delete_namespace'] },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: namespaceMissing,
})

describe('cross-workspace isolation', () => {
  test('the same namespace name in two workspaces: separate namespaces, counters and overrides', async () => {
    const h = new Harness()
    const a = await h.rootKey('ws-a')
    const b = await h.rootKey('ws-b')
    const body = { namespace: 'email', identifier: 'user_1', limit: 2, duration: 60_000 }
    await h.ok('ratelimit.limit', { ...body, cost: 2 }, a)
    const { overrideId } = await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: 'user_*', limit: 0, duration: 60_000 }, a)
    expect(await h.ok('ratelimit.limit', { ...body, cost: 0 }, a)).toMatchObject({ limit: 0, success: false, overrideId })

    // B: its own namespace, untouched counters, none of A's overrides.
    expect(await h.ok('ratelimit.limit', body, b)).toEqual({ limit: 2, remaining: 1, reset: h.clock.now() + 60_000, success: true })
    const nsA = (await h.services.ratelimit.findNamespace(await h.workspaceId('ws-a'), 'email'))!
    const nsB = (await h.services.ratelimit.findNamespace(await h.workspaceId('ws-b'), 'email'))!
    expect(nsB.id).not.toBe(nsA.id)
    expect((await h.call('/v2/ratelimit.getOverride', { namespace: 'email', identifier: 'user_1' }, b)).status).toBe(404)
    expect((await h.call('/v2/ratelimit.listOverrides', { namespace: 'email' }, b)).body.data).toEqual([])

    // B cannot address A's namespace by id.
    for (const rpc of ['ratelimit.getOverride', 'ratelimit.deleteOverride']) {
      const res = await h.call(`/v2/${rpc}`, { namespace: nsA.id, identifier: 'user_*' }, b)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(namespaceMissing)
    }
    const set = await h.call('/v2/ratelimit.setOverride', { namespace: nsA.id, identifier: 'user_1', limit: 100, duration: 1000 }, b)
    expect(set.status).toBe(404)

    // A is unchanged by all of B's calls.
    expect(await h.ok('ratelimit.getOverride', { namespace: 'email', identifier: 'user_9' }, a)).toMatchObject({ overrideId, limit: 0 })
    await h.services.ratelimit.deleteNamespace(await h.workspaceId('ws-a'), nsA.id)
    expect((await h.call('/v2/ratelimit.limit', body, a)).status).toBe(410)
    expect((await h.call('/v2/ratelimit.limit', body, b)).status).toBe(200)
    await h.close()
  })
})
