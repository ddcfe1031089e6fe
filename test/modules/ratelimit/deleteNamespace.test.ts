// ratelimit.deleteNamespace: a namespace (by name or id) is soft-deleted with
// its overrides; limit calls on it answer 410 from the next request on.
import { describe, expect, test } from 'bun:test'
import { type Harness, invalidBody, notFoundBody, REQUEST_ID, withHarness } from '../../support/harness'

const namespaceMissing = notFoundBody('ratelimit_namespace', 'This namespace does not exist.')
const limitBody = { namespace: 'email', identifier: 'user_1', limit: 10, duration: 60_000 }

let h: Harness
let root: string
let nsId: string
withHarness(async (f) => {
  ;({ h, root } = f)
  await h.ok('ratelimit.limit', limitBody, root)
  nsId = (await h.services.ratelimit.findNamespace(await h.workspaceId('ws'), 'email'))!.id
})

const overrideRows = () => h.db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM ratelimit_overrides WHERE namespace_id = ?').get(nsId)!.n

describe('ratelimit.deleteNamespace', () => {
  test.each([
    ['its name', () => 'email'],
    ['its id', () => nsId],
  ])('by %s: limit answers 410 at once, its overrides are gone, the listing leaves it out', async (_, ref) => {
    await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: 'user_*', limit: 0, duration: 1000 }, root)
    await h.ok('ratelimit.getOverride', { namespace: 'email', identifier: 'user_1' }, root)
    const res = await h.call('/v2/ratelimit.deleteNamespace', { namespace: ref() }, root)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect((await h.call('/v2/ratelimit.limit', limitBody, root)).status).toBe(410)
    expect(overrideRows()).toBe(0)
    expect((await h.call('/v2/ratelimit.getOverride', { namespace: 'email', identifier: 'user_1' }, root)).body).toEqual(namespaceMissing)
    expect(await h.ok('ratelimit.listNamespaces', {}, root)).toEqual([])
  })

  test('is audited with the number of overrides deleted', async () => {
    await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: 'vip', limit: 100, duration: 1000 }, root)
    await h.ok('ratelimit.deleteNamespace', { namespace: 'email' }, root)
    const [event, ...more] = await h.ok('audit.listLogs', { events: ['ratelimit.delete_namespace'] }, root)
    expect(more).toEqual([])
    expect(event).toMatchObject({
      actor: { type: 'root_key' },
      resources: [{ type: 'ratelimit_namespace', id: nsId, name: 'email' }],
      description: 'Deleted ratelimit namespace email and its 1 override',
    })
  })

  test('404 for a namespace deleted already, a missing one and another workspace’s, which stays', async () => {
    const other = await h.rootKey('other-ws')
    await h.ok('ratelimit.limit', { ...limitBody, namespace: 'theirs' }, other)
    const theirs = (await h.services.ratelimit.findNamespace(await h.workspaceId('other-ws'), 'theirs'))!.id
    await h.ok('ratelimit.deleteNamespace', { namespace: 'email' }, root)
    for (const namespace of ['email', nsId, 'never-made', 'rlns_doesnotexist', theirs, 'theirs']) {
      const res = await h.call('/v2/ratelimit.deleteNamespace', { namespace }, root)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(namespaceMissing)
    }
    expect(await h.ok('audit.listLogs', { events: ['ratelimit.delete_namespace'] }, root)).toHaveLength(1)
    expect((await h.call('/v2/ratelimit.limit', { ...limitBody, namespace: 'theirs' }, other)).status).toBe(200)
  })

  test.each([
    [{}, 'body.namespace', "Property 'namespace' is missing"],
    [{ namespace: '' }, 'body.namespace', 'Expected string length greater or equal to 1'],
    [{ namespace: 7 }, 'body.namespace', "Expected property 'namespace' to be string but found: 7"],
  ])('400 for %p, and the namespace stays', async (body, location, message) => {
    const res = await h.call('/v2/ratelimit.deleteNamespace', body, root)
    expect(res.body).toEqual(invalidBody('ratelimit.deleteNamespace', location, message))
    expect((await h.call('/v2/ratelimit.limit', limitBody, root)).status).toBe(200)
  })
})
