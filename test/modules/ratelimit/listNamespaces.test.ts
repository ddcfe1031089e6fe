// ratelimit.listNamespaces: the workspace's live namespaces page by page with
// their number of overrides; per-namespace read grants see those alone.
import { describe, expect, test } from 'bun:test'
import { type Harness, invalidBody, REQUEST_ID, withHarness } from '../../support/harness'

let h: Harness
let root: string
withHarness((f) => {
  ;({ h, root } = f)
})

/** Creates the namespace through ratelimit.limit and returns its id. */
async function namespace(name: string, key = root): Promise<string> {
  await h.ok('ratelimit.limit', { namespace: name, identifier: 'u', limit: 1, duration: 1000, cost: 0 }, key)
  const ws = (await h.ok('rootKeys.whoami', {}, key)).workspace.id
  return (await h.services.ratelimit.findNamespace(ws, name))!.id
}

const byId = <T extends { id: string }>(items: T[]) => [...items].sort((a, b) => (a.id < b.id ? -1 : 1))

describe('ratelimit.listNamespaces', () => {
  test('lists the live namespaces in id order with their number of overrides', async () => {
    const email = await namespace('email')
    const sms = await namespace('sms')
    const gone = await namespace('push')
    for (const identifier of ['vip', 'user_*']) {
      await h.ok('ratelimit.setOverride', { namespace: 'email', identifier, limit: 5, duration: 1000 }, root)
    }
    await h.ok('ratelimit.deleteNamespace', { namespace: gone }, root)
    const res = await h.call('/v2/ratelimit.listNamespaces', {}, root)
    expect(res.status).toBe(200)
    const createdAt = h.clock.now()
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: byId([
        { id: email, name: 'email', createdAt, overrideCount: 2 },
        { id: sms, name: 'sms', createdAt, overrideCount: 0 },
      ]),
      pagination: { hasMore: false },
    })
  })

  test('pages with limit and cursor, each namespace once', async () => {
    const ids = [await namespace('a'), await namespace('b'), await namespace('c')].sort()
    const first = await h.call('/v2/ratelimit.listNamespaces', { limit: 2 }, root)
    expect(first.body.data.map((n: any) => n.id)).toEqual(ids.slice(0, 2))
    expect(first.body.pagination).toEqual({ cursor: ids[2], hasMore: true })
    const second = await h.ok('ratelimit.listNamespaces', { limit: 2, cursor: ids[2] }, root)
    expect(second.map((n: any) => n.id)).toEqual(ids.slice(2))
  })

  test('a key with per-namespace read grants lists those namespaces only', async () => {
    const email = await namespace('email')
    await namespace('sms')
    const reader = await h.rootKey('ws', [`ratelimit.${email}.read_namespace`, 'ratelimit.rlns_gone.read_namespace'])
    expect((await h.ok('ratelimit.listNamespaces', {}, reader)).map((n: any) => n.name)).toEqual(['email'])
  })

  test('never lists another workspace’s namespaces, even when granted by id', async () => {
    const other = await h.rootKey('other-ws')
    const theirs = await namespace('email', other)
    await namespace('sms')
    expect(await h.ok('ratelimit.listNamespaces', {}, other)).toMatchObject([{ id: theirs, name: 'email' }])
    const scoped = await h.rootKey('ws', [`ratelimit.${theirs}.read_namespace`])
    expect(await h.ok('ratelimit.listNamespaces', {}, scoped)).toEqual([])
  })

  test.each([
    [{ limit: 0 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
    [{ limit: 101 }, 'body.limit', 'Expected integer to be less or equal to 100'],
    [{ namespace: 'email' }, 'body.namespace', "Property 'namespace' should not be provided"],
  ])('400 for %p', async (body, location, message) => {
    expect((await h.call('/v2/ratelimit.listNamespaces', body, root)).body).toEqual(invalidBody('ratelimit.listNamespaces', location, message))
  })
})
