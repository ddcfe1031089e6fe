// A NUL character (U+0000) anywhere in a body is a 400 naming where it is,
// before any work: PostgreSQL cannot store it in text or jsonb (a name with
// one was a 500), and Deno's node:sqlite cut strings at it. One rule for every
// field, so that every engine answers alike. Runs on every engine (npm run
// test:postgres includes this file) and under Deno.
import { describe, expect, test } from 'bun:test'
import { errorBody, withApi } from '../support/harness'

const refused = (location: string) =>
  errorBody(400, 'Bad Request', 'unkey/application/invalid_input', `${location} contains a NUL character (U+0000), which latch does not store.`, [
    { location, message: 'NUL characters (U+0000) are not allowed' },
  ])

describe('NUL characters in a body', () => {
  let h: Parameters<Parameters<typeof withApi>[0]>[0]['h']
  let root: string
  let apiId: string
  withApi((fixture) => {
    ;({ h, root, apiId } = fixture)
  })

  const count = async (table: string) => Number((await h.query(`SELECT count(*) AS n FROM ${table}`))[0]!.n)

  test('in a value: refused, and nothing is written', async () => {
    const cases: [rpc: string, body: () => unknown, location: string][] = [
      ['apis.createApi', () => ({ name: 'a\u0000b' }), 'body.name'],
      ['keys.createKey', () => ({ apiId, name: 'k', meta: { plan: 'pro\u0000' } }), 'body.meta.plan'],
      ['identities.createIdentity', () => ({ externalId: 'user_1', meta: { list: ['ok', '\u0000'] } }), 'body.meta.list[1]'],
      ['permissions.createPermission', () => ({ name: 'p\u0000', slug: 'p' }), 'body.name'],
      ['permissions.createRole', () => ({ name: 'admin', description: 'x\u0000y' }), 'body.description'],
      ['ratelimit.setOverride', () => ({ namespace: 'api', identifier: 'u\u0000', limit: 1, duration: 60_000 }), 'body.identifier'],
    ]
    for (const [rpc, body, location] of cases) {
      const res = await h.call(`/v2/${rpc}`, body(), root)
      expect({ rpc, status: res.status, body: res.body }).toEqual({ rpc, status: 400, body: refused(location) })
    }
    expect([await count('apis'), await count('keys'), await count('identities'), await count('permissions'), await count('roles')]).toEqual([1, 0, 0, 0, 0])
    expect(await count('ratelimit_overrides')).toBe(0)
  })

  test('in an object key, as an escape in the text', async () => {
    const res = await h.call('/v2/keys.createKey', `{"apiId":"${apiId}","meta":{"a\\u0000":1}}`, root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(refused('body.meta.a\u0000'))
  })

  test('on the hot routes: refused, and no event is recorded', async () => {
    const { key } = await h.ok('keys.createKey', { apiId }, root)
    const verify = await h.call('/v2/keys.verifyKey', { key, tags: ['plan=pro', 'path=/\u0000'] }, root)
    expect(verify.status).toBe(400)
    expect(verify.body).toEqual(refused('body.tags[1]'))
    const limit = await h.call('/v2/ratelimit.limit', { namespace: 'api', identifier: 'u\u0000', limit: 5, duration: 60_000 }, root)
    expect(limit.status).toBe(400)
    expect(limit.body).toEqual(refused('body.identifier'))
    await h.services.flush()
    expect([await count('verification_events'), await count('ratelimit_events')]).toEqual([0, 0])
    // The same calls without the NUL are answered and recorded.
    expect((await h.ok('keys.verifyKey', { key, tags: ['plan=pro'] }, root)).valid).toBe(true)
    expect((await h.ok('ratelimit.limit', { namespace: 'api', identifier: 'u', limit: 5, duration: 60_000 }, root)).success).toBe(true)
    await h.services.flush()
    expect([await count('verification_events'), await count('ratelimit_events')]).toEqual([1, 1])
  })

  test('other escaped characters are ordinary text', async () => {
    const { apiId: second } = await h.ok('apis.createApi', { name: 'caf\u00e9 \u0001' }, root)
    expect((await h.ok('apis.getApi', { apiId: second }, root)).name).toBe('caf\u00e9 \u0001')
    const escaped = await h.call('/v2/apis.createApi', '{"name":"t\\u00e9l\\u00e9"}', root)
    expect(escaped.status).toBe(200)
  })
})
