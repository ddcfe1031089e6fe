import { describe, expect, test } from 'bun:test'
import { errorBody, type Harness, notFoundBody, invalidBody, withHarness } from '../../support/harness'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

const identityMissing = notFoundBody('identity', 'This identity does not exist.')
const rl = (over: Record<string, unknown> = {}) => ({ name: 'requests', limit: 10, duration: 60_000, autoApply: false, ...over })
const countIdentities = () => h.db.query('SELECT COUNT(*) AS n FROM identities').get()

describe('validation (400 names the field)', () => {
  test.each<[string, unknown, string, string]>([
    ['identities.createIdentity', {}, 'body.externalId', "Property 'externalId' is missing"],
    ['identities.createIdentity', { externalId: '' }, 'body.externalId', 'Expected string length greater or equal to 1'],
    ['identities.createIdentity', { externalId: 'x'.repeat(256) }, 'body.externalId', 'Expected string length less or equal to 255'],
    ['identities.createIdentity', { externalId: 'user 1' }, 'body.externalId', "Expected string to match '^[a-zA-Z0-9_.-]+$'"],
    ['identities.createIdentity', { externalId: 'u', meta: [1] }, 'body.meta', 'Expected object'],
    ['identities.createIdentity', { externalId: 'u', meta: 'x' }, 'body.meta', 'Expected object'],
    [
      'identities.createIdentity',
      { externalId: 'u', meta: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) },
      'body.meta',
      'Expected object to have no more than 100 properties',
    ],
    [
      'identities.createIdentity',
      { externalId: 'u', ratelimits: [rl({ name: 'rq' })] },
      'body.ratelimits[0].name',
      'Expected string length greater or equal to 3',
    ],
    [
      'identities.createIdentity',
      { externalId: 'u', ratelimits: [rl({ limit: 0 })] },
      'body.ratelimits[0].limit',
      'Expected integer to be greater or equal to 1',
    ],
    [
      'identities.createIdentity',
      { externalId: 'u', ratelimits: [rl({ duration: 999 })] },
      'body.ratelimits[0].duration',
      'Expected integer to be greater or equal to 1000',
    ],
    [
      'identities.createIdentity',
      { externalId: 'u', ratelimits: [rl({ limit: undefined })] },
      'body.ratelimits[0].limit',
      "Property 'ratelimits.0.limit' is missing",
    ],
    [
      'identities.createIdentity',
      { externalId: 'u', ratelimits: [rl({ burst: 1 })] },
      'body.ratelimits[0].burst',
      "Property 'ratelimits.0.burst' should not be provided",
    ],
    [
      'identities.createIdentity',
      { externalId: 'u', ratelimits: Array.from({ length: 51 }, (_, i) => rl({ name: `limit-${i}` })) },
      'body.ratelimits',
      'Expected array length to be less or equal to 50',
    ],
    ['identities.createIdentity', { externalId: 'u', environment: 'x' }, 'body.environment', "Property 'environment' should not be provided"],
    ['identities.getIdentity', {}, 'body.identity', "Property 'identity' is missing"],
    ['identities.getIdentity', { identity: '' }, 'body.identity', 'Expected string length greater or equal to 1'],
    ['identities.updateIdentity', { identity: '' }, 'body.identity', 'Expected string length greater or equal to 1'],
    ['identities.updateIdentity', { identity: 'u', meta: null }, 'body.meta', 'Expected object'],
    ['identities.updateIdentity', { identity: 'u', externalId: 'v' }, 'body.externalId', "Property 'externalId' should not be provided"],
    ['identities.listIdentities', { limit: 0 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
    ['identities.listIdentities', { limit: 101 }, 'body.limit', 'Expected integer to be less or equal to 100'],
    ['identities.listIdentities', { search: 'x'.repeat(257) }, 'body.search', 'Expected string length less or equal to 256'],
    ['identities.deleteIdentity', { identity: 7 }, 'body.identity', "Expected property 'identity' to be string but found: 7"],
  ])('%s %j is a 400', async (rpc, body, location, message) => {
    const res = await h.call(`/v2/${rpc}`, body, key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody(rpc, location, message))
  })

  test('meta over 1 MB is a 400 on create and update; nothing is written', async () => {
    const meta = { blob: 'x'.repeat(1024 * 1024) }
    const bytes = JSON.stringify(meta).length
    const expected = errorBody(
      400,
      'Bad Request',
      'unkey/application/invalid_input',
      `Metadata is too large: it takes ${bytes} bytes as JSON, at most 1048576 are allowed.`,
      [{ location: 'body.meta', message: 'larger than 1048576 bytes as JSON', fix: 'Keep large data elsewhere and store a reference in meta.' }],
    )
    const created = await h.call('/v2/identities.createIdentity', { externalId: 'u', meta }, key)
    expect(created.status).toBe(400)
    expect(created.body).toEqual(expected)
    expect(countIdentities()).toEqual({ n: 0 })

    await h.ok('identities.createIdentity', { externalId: 'u', meta: { small: true } }, key)
    const updated = await h.call('/v2/identities.updateIdentity', { identity: 'u', meta }, key)
    expect(updated.status).toBe(400)
    expect(updated.body).toEqual(expected)
    expect((await h.ok('identities.getIdentity', { identity: 'u' }, key)).meta).toEqual({ small: true })
  })

  test('multi-byte characters count as bytes', async () => {
    const meta = { blob: 'é'.repeat(600_000) }
    const res = await h.call('/v2/identities.createIdentity', { externalId: 'u', meta }, key)
    expect(res.status).toBe(400)
    expect(res.body.error.detail).toStartWith('Metadata is too large: it takes 1200011 bytes')
  })

  test('a ratelimit name given twice is a 400 on create and update; nothing is written', async () => {
    const twice = [rl({ name: 'requests' }), rl({ name: 'tokens' }), rl({ name: 'requests', limit: 5 })]
    const expected = errorBody(400, 'Bad Request', 'unkey/application/invalid_input', "Ratelimit with name 'requests' is already defined in the request", [
      { location: 'body.ratelimits[2].name', message: "duplicate ratelimit name 'requests'", fix: 'Give every ratelimit a distinct name.' },
    ])
    const created = await h.call('/v2/identities.createIdentity', { externalId: 'u', ratelimits: twice }, key)
    expect(created.status).toBe(400)
    expect(created.body).toEqual(expected)
    expect(countIdentities()).toEqual({ n: 0 })

    await h.ok('identities.createIdentity', { externalId: 'u', ratelimits: [rl({ name: 'original' })] }, key)
    const updated = await h.call('/v2/identities.updateIdentity', { identity: 'u', ratelimits: twice }, key)
    expect(updated.body).toEqual(expected)
    expect((await h.ok('identities.getIdentity', { identity: 'u' }, key)).ratelimits.map((r: any) => r.name)).toEqual(['original'])
  })
})

describe('404', () => {
  test.each(['identities.getIdentity', 'identities.updateIdentity', 'identities.deleteIdentity'])('%s: unknown id or externalId', async (rpc) => {
    for (const identity of ['id_doesnotexist', 'nobody']) {
      const res = await h.call(`/v2/${rpc}`, { identity }, key)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(identityMissing)
    }
  })

  test.each(['identities.getIdentity', 'identities.updateIdentity', 'identities.deleteIdentity'])('%s: a deleted identity', async (rpc) => {
    const { identityId } = await h.ok('identities.createIdentity', { externalId: 'u' }, key)
    await h.ok('identities.deleteIdentity', { identity: identityId }, key)
    expect((await h.call(`/v2/${rpc}`, { identity: identityId }, key)).body).toEqual(identityMissing)
    expect((await h.call(`/v2/${rpc}`, { identity: 'u' }, key)).body).toEqual(identityMissing)
  })
})

describe('409', () => {
  test('an externalId that a live identity has', async () => {
    await h.ok('identities.createIdentity', { externalId: 'user_123' }, key)
    const res = await h.call('/v2/identities.createIdentity', { externalId: 'user_123', meta: { a: 1 } }, key)
    expect(res.status).toBe(409)
    expect(res.body).toEqual(
      errorBody(409, 'Conflicting Resource', 'unkey/data/identity_already_exists', "Identity with externalId 'user_123' already exists in this workspace."),
    )
    expect(countIdentities()).toEqual({ n: 1 })
  })

  test('an identity created on the fly by createKey counts too', async () => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, key)
    await h.ok('keys.createKey', { apiId, externalId: 'user_9' }, key)
    expect((await h.call('/v2/identities.createIdentity', { externalId: 'user_9' }, key)).status).toBe(409)
  })
})

describe('identities.deleteIdentity errors are application/problem+json (the SDK types them only then)', () => {
  test.each<[string, unknown, string | null, number]>([
    ['404', { identity: 'nobody' }, 'admin', 404],
    ['400', { identity: '' }, 'admin', 400],
    ['401', { identity: 'nobody' }, null, 401],
    ['403', { identity: 'nobody' }, 'reader', 403],
  ])('%s', async (_label, body, who, status) => {
    const keys: Record<string, string> = { admin: key, reader: await h.rootKey('acme', ['identity.*.read_identity']) }
    const res = await h.call('/v2/identities.deleteIdentity', body, who ? keys[who] : null)
    expect(res.status).toBe(status)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.body.error.status).toBe(status)
  })

  test('other identity routes answer errors as application/json', async () => {
    const res = await h.call('/v2/identities.getIdentity', { identity: 'nobody' }, key)
    expect(res.headers.get('content-type')).toStartWith('application/json')
  })
})
