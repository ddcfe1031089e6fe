import { describe, expect, test } from 'bun:test'
import { errorBody, forbiddenBody, type Harness, invalidBody, withHarness } from '../../support/harness'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

const namespaceMissing = errorBody(404, 'Not Found', 'unkey/data/ratelimit_namespace_not_found', 'This namespace does not exist.')
const overrideMissing = errorBody(404, 'Not Found', 'unkey/data/ratelimit_override_not_found', 'This override does not exist.')
const gone = errorBody(410, 'Resource Gone', 'unkey/data/ratelimit_namespace_gone', 'This namespace has been deleted.')

const valid = { namespace: 'email', identifier: 'user_1', limit: 10, duration: 60_000 }

const limitCases: [string, Record<string, unknown>, string, string][] = [
  ['duration under 1 s', { duration: 999 }, 'body.duration', 'Expected integer to be greater or equal to 1000'],
  ['duration over 30 days', { duration: 2_592_000_001 }, 'body.duration', 'Expected integer to be less or equal to 2592000000'],
  ['limit 0', { limit: 0 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
  ['negative limit', { limit: -5 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
  ['fractional limit', { limit: 1.5 }, 'body.limit', 'Expected integer'],
  ['limit as a string', { limit: '10' }, 'body.limit', 'Expected integer'],
  ['empty identifier', { identifier: '' }, 'body.identifier', 'Expected string length greater or equal to 1'],
  ['identifier over 512', { identifier: 'x'.repeat(513) }, 'body.identifier', 'Expected string length less or equal to 512'],
  ['empty namespace', { namespace: '' }, 'body.namespace', 'Expected string length greater or equal to 1'],
  ['namespace over 512', { namespace: 'n'.repeat(513) }, 'body.namespace', 'Expected string length less or equal to 512'],
  ['negative cost', { cost: -1 }, 'body.cost', 'Expected integer to be greater or equal to 0'],
  ['unknown field', { async: true }, 'body.async', "Property 'async' should not be provided"],
]

describe('ratelimit.limit validation', () => {
  test.each(limitCases)('%s is a 400', async (_label, over, location, message) => {
    const res = await h.call('/v2/ratelimit.limit', { ...valid, ...over }, key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('ratelimit.limit', location, message))
  })

  test.each(['namespace', 'identifier', 'limit', 'duration'])('missing %s is a 400', async (field) => {
    const body: Record<string, unknown> = { ...valid }
    delete body[field]
    const res = await h.call('/v2/ratelimit.limit', body, key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('ratelimit.limit', `body.${field}`, `Property '${field}' is missing`))
  })

  test('an invalid request creates no namespace and counts nothing', async () => {
    await h.call('/v2/ratelimit.limit', { ...valid, duration: 10 }, key)
    expect(h.db.query('SELECT COUNT(*) AS n FROM ratelimit_namespaces').get()).toEqual({ n: 0 })
    expect(h.services.ratelimit.limiter.size).toBe(0)
  })

  test('400 comes before 403', async () => {
    const res = await h.call('/v2/ratelimit.limit', { ...valid, limit: 0 }, await h.rootKey('acme', ['api.*.read_api']))
    expect(res.status).toBe(400)
  })
})

describe('ratelimit.multiLimit validation', () => {
  test('an empty array is a 400', async () => {
    const res = await h.call('/v2/ratelimit.multiLimit', [], key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('ratelimit.multiLimit', 'body', 'Expected array length to be greater or equal to 1'))
  })

  test('more than 100 checks is a 400', async () => {
    const res = await h.call(
      '/v2/ratelimit.multiLimit',
      Array.from({ length: 101 }, () => valid),
      key,
    )
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('ratelimit.multiLimit', 'body', 'Expected array length to be less or equal to 100'))
  })

  test('an object instead of an array is a 400', async () => {
    const res = await h.call('/v2/ratelimit.multiLimit', valid, key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('ratelimit.multiLimit', 'body', 'Expected array'))
  })

  test.each(limitCases)('a check with %s is a 400 naming its index', async (_label, over, location, message) => {
    const res = await h.call('/v2/ratelimit.multiLimit', [valid, { ...valid, ...over }], key)
    expect(res.status).toBe(400)
    // The shared validation renderer prefixes the index inside the unknown-property message.
    const expected = message.replace("Property 'async'", "Property '1.async'")
    expect(res.body).toEqual(invalidBody('ratelimit.multiLimit', location.replace('body.', 'body[1].'), expected))
  })

  test('nothing is counted when validation fails', async () => {
    await h.call('/v2/ratelimit.multiLimit', [valid, { ...valid, limit: 0 }], key)
    expect(h.services.ratelimit.limiter.size).toBe(0)
  })
})

describe('override routes validation', () => {
  test.each([
    ['ratelimit.setOverride', 'body.limit', 'Expected integer to be greater or equal to 0', { limit: -1 }],
    ['ratelimit.setOverride', 'body.duration', 'Expected integer to be greater or equal to 1000', { duration: 999 }],
    ['ratelimit.setOverride', 'body.identifier', 'Expected string length greater or equal to 1', { identifier: '' }],
    ['ratelimit.setOverride', 'body.cost', "Property 'cost' should not be provided", { cost: 1 }],
    ['ratelimit.getOverride', 'body.identifier', 'Expected string length greater or equal to 1', { identifier: '' }],
    ['ratelimit.getOverride', 'body.namespace', 'Expected string length greater or equal to 1', { namespace: '' }],
    ['ratelimit.getOverride', 'body.limit', "Property 'limit' should not be provided", { limit: 1 }],
    ['ratelimit.deleteOverride', 'body.identifier', 'Expected string length less or equal to 512', { identifier: 'x'.repeat(513) }],
    ['ratelimit.deleteOverride', 'body.extra', "Property 'extra' should not be provided", { extra: 1 }],
    ['ratelimit.listOverrides', 'body.limit', 'Expected integer to be greater or equal to 1', { limit: 0 }],
    ['ratelimit.listOverrides', 'body.limit', 'Expected integer to be less or equal to 100', { limit: 101 }],
    ['ratelimit.listOverrides', 'body.identifier', "Property 'identifier' should not be provided", { identifier: 'x' }],
  ] as const)('%s: %s: %s is a 400', async (rpc, location, message, over) => {
    const base: Record<string, unknown> =
      rpc === 'ratelimit.setOverride'
        ? { namespace: 'email', identifier: 'user_1', limit: 1, duration: 1000 }
        : rpc === 'ratelimit.listOverrides'
          ? { namespace: 'email' }
          : { namespace: 'email', identifier: 'user_1' }
    const res = await h.call(`/v2/${rpc}`, { ...base, ...over }, key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody(rpc, location, message))
  })
})

describe('404', () => {
  const bodies: Record<string, Record<string, unknown>> = {
    'ratelimit.setOverride': { namespace: 'nope', identifier: 'user_1', limit: 1, duration: 1000 },
    'ratelimit.getOverride': { namespace: 'nope', identifier: 'user_1' },
    'ratelimit.listOverrides': { namespace: 'nope' },
    'ratelimit.deleteOverride': { namespace: 'nope', identifier: 'user_1' },
  }

  test.each(Object.keys(bodies))('%s: an unknown namespace is a 404 and is not created', async (rpc) => {
    const res = await h.call(`/v2/${rpc}`, bodies[rpc], key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(namespaceMissing)
    expect(h.db.query('SELECT COUNT(*) AS n FROM ratelimit_namespaces').get()).toEqual({ n: 0 })
  })

  test.each(Object.keys(bodies))('%s: an unknown namespace id is a 404', async (rpc) => {
    const res = await h.call(`/v2/${rpc}`, { ...bodies[rpc], namespace: 'rlns_doesnotexist1' }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(namespaceMissing)
  })

  test.each(Object.keys(bodies))('%s: a deleted namespace is a 404', async (rpc) => {
    await h.ok('ratelimit.limit', { ...valid, namespace: 'nope' }, key)
    await h.ok('ratelimit.setOverride', bodies['ratelimit.setOverride'], key)
    const ws = await h.workspaceId('acme')
    await h.services.ratelimit.deleteNamespace(ws, (await h.services.ratelimit.findNamespace(ws, 'nope'))!.id)
    const res = await h.call(`/v2/${rpc}`, bodies[rpc], key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(namespaceMissing)
  })

  test('getOverride and deleteOverride: no override for the identifier is a 404', async () => {
    await h.ok('ratelimit.limit', valid, key)
    await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: 'admin_*', limit: 1, duration: 1000 }, key)
    const get = await h.call('/v2/ratelimit.getOverride', { namespace: 'email', identifier: 'user_1' }, key)
    expect(get.status).toBe(404)
    expect(get.body).toEqual(overrideMissing)
    // deleteOverride does not match patterns: `admin_1` is not the override `admin_*`.
    const del = await h.call('/v2/ratelimit.deleteOverride', { namespace: 'email', identifier: 'admin_1' }, key)
    expect(del.status).toBe(404)
    expect(del.body).toEqual(overrideMissing)
    await h.ok('ratelimit.deleteOverride', { namespace: 'email', identifier: 'admin_*' }, key)
    expect((await h.call('/v2/ratelimit.deleteOverride', { namespace: 'email', identifier: 'admin_*' }, key)).body).toEqual(overrideMissing)
  })

  test('a missing namespace: 403 without the action on any namespace, 404 with it on another one', async () => {
    const none = await h.call('/v2/ratelimit.getOverride', bodies['ratelimit.getOverride'], await h.rootKey('acme', ['ratelimit.*.limit']))
    expect(none.status).toBe(403)
    expect(none.body).toEqual(forbiddenBody(['ratelimit.*.read_override']))
    const other = await h.call(
      '/v2/ratelimit.getOverride',
      bodies['ratelimit.getOverride'],
      await h.rootKey('acme', ['ratelimit.rlns_someother12.read_override']),
    )
    expect(other.status).toBe(404)
    expect(other.body).toEqual(namespaceMissing)
  })
})

describe('410 for a deleted namespace', () => {
  async function deleted(name = 'email') {
    await h.ok('ratelimit.limit', { ...valid, namespace: name }, key)
    const ws = await h.workspaceId('acme')
    const ns = (await h.services.ratelimit.findNamespace(ws, name))!
    await h.services.ratelimit.deleteNamespace(ws, ns.id)
    return ns.id
  }

  test('ratelimit.limit by name or by id answers 410', async () => {
    const id = await deleted()
    for (const namespace of ['email', id]) {
      const res = await h.call('/v2/ratelimit.limit', { ...valid, namespace }, key)
      expect(res.status).toBe(410)
      expect(res.body).toEqual(gone)
    }
  })

  test('the namespace is not re-created under the same name', async () => {
    await deleted()
    await h.call('/v2/ratelimit.limit', valid, key)
    expect(h.db.query('SELECT COUNT(*) AS n FROM ratelimit_namespaces').get()).toEqual({ n: 1 })
  })

  test('ratelimit.multiLimit answers 410 when any namespace is deleted; nothing is counted or created', async () => {
    await deleted('sms')
    await h.ok('ratelimit.limit', { ...valid, cost: 0 }, key)
    const res = await h.call('/v2/ratelimit.multiLimit', [valid, { ...valid, namespace: 'push' }, { ...valid, namespace: 'sms' }], key)
    expect(res.status).toBe(410)
    expect(res.body).toEqual(gone)
    expect((await h.ok('ratelimit.limit', { ...valid, cost: 0 }, key)).remaining).toBe(10)
    expect(await h.services.ratelimit.findNamespace(await h.workspaceId('acme'), 'push')).toBeNull()
  })

  test('403 comes before 410', async () => {
    await deleted()
    const res = await h.call('/v2/ratelimit.limit', valid, await h.rootKey('acme', ['ratelimit.*.set_override']))
    expect(res.status).toBe(403)
  })
})
