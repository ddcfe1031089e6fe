import { describe, expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { errorBody, Harness, notFoundBody, REQUEST_ID, TEST_MASTER_KEY, withApi } from '../../support/harness'

let h: Harness
let root: string
let apiId: string
withApi((f) => ({ h, root, apiId } = f))

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/

describe('keys.createKey', () => {
  test('returns keyId and the key, stores only the SHA-256 hash', async () => {
    const res = await h.call('/v2/keys.createKey', { apiId }, root)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { keyId: expect.stringMatching(/^key_/), key: expect.stringMatching(BASE58) } })
    const { keyId, key } = res.body.data
    const row: any = h.db.query('SELECT * FROM keys WHERE id = ?').get(keyId)
    expect(row.hash).toBe(createHash('sha256').update(key).digest('base64'))
    expect(row.start).toBe(key.slice(0, 4))
    expect(row.encrypted).toBeNull()
    await h.services.flush()
    // The plaintext is nowhere in the database file.
    const file = readFileSync(h.dbPath).toString('latin1') + readFileSync(h.dbPath + '-wal', { flag: 'a+' }).toString('latin1')
    expect(file.includes(key)).toBe(false)
  })

  test('prefix and byteLength shape the key; start is prefix_ + 4 characters', async () => {
    const { key, keyId } = await h.ok('keys.createKey', { apiId, prefix: 'sk_live', byteLength: 32 }, root)
    expect(key).toStartWith('sk_live_')
    const body = key.slice('sk_live_'.length)
    expect(body).toMatch(BASE58)
    expect(body.length).toBeGreaterThanOrEqual(43) // 32 random bytes in base58
    const got = await h.ok('keys.getKey', { keyId }, root)
    expect(got.start).toBe(`sk_live_${body.slice(0, 4)}`)
  })

  test('every optional field is stored and returned by getKey', async () => {
    const { keyId } = await h.ok(
      'keys.createKey',
      {
        apiId,
        name: 'customer key',
        externalId: 'user_42',
        meta: { plan: 'pro', nested: { a: [1, 2] } },
        permissions: ['documents.read', 'documents.write'],
        expires: Date.UTC(2030, 0, 1),
        credits: { remaining: 100, refill: { interval: 'monthly', amount: 100, refillDay: 15 } },
        ratelimits: [{ name: 'requests', limit: 10, duration: 60000, autoApply: true }],
        enabled: false,
      },
      root,
    )
    const key = await h.ok('keys.getKey', { keyId }, root)
    expect(key).toEqual({
      keyId,
      start: expect.any(String),
      enabled: false,
      name: 'customer key',
      meta: { plan: 'pro', nested: { a: [1, 2] } },
      createdAt: h.clock.now(),
      expires: Date.UTC(2030, 0, 1),
      permissions: ['documents.read', 'documents.write'],
      credits: { remaining: 100, refill: { interval: 'monthly', amount: 100, refillDay: 15 } },
      identity: { id: expect.stringMatching(/^id_/), externalId: 'user_42' },
      ratelimits: [{ id: expect.stringMatching(/^rl_/), name: 'requests', limit: 10, duration: 60000, autoApply: true }],
    })
  })

  test('externalId links one identity shared by several keys', async () => {
    const a = await h.ok('keys.createKey', { apiId, externalId: 'org_1' }, root)
    const b = await h.ok('keys.createKey', { apiId, externalId: 'org_1' }, root)
    const ka = await h.ok('keys.getKey', { keyId: a.keyId }, root)
    const kb = await h.ok('keys.getKey', { keyId: b.keyId }, root)
    expect(ka.identity.id).toBe(kb.identity.id)
    expect(h.db.query('SELECT COUNT(*) AS n FROM identities').get()).toEqual({ n: 1 })
  })

  test('credits with remaining null and no refill means unlimited', async () => {
    const { keyId, key } = await h.ok('keys.createKey', { apiId, credits: { remaining: null } }, root)
    expect((await h.ok('keys.getKey', { keyId }, root)).credits).toBeUndefined()
    const v = await h.ok('keys.verifyKey', { key }, root)
    expect(v.code).toBe('VALID')
    expect(v.credits).toBeUndefined()
  })
})

describe('keys.createKey validation', () => {
  test.each([
    [{ byteLength: 15 }, 'body.byteLength'],
    [{ byteLength: 256 }, 'body.byteLength'],
    [{ byteLength: 16.5 }, 'body.byteLength'],
    [{ prefix: 'has-dash' }, 'body.prefix'],
    [{ prefix: 'x'.repeat(17) }, 'body.prefix'],
    [{ name: '' }, 'body.name'],
    [{ externalId: 'bad id' }, 'body.externalId'],
    [{ expires: -1 }, 'body.expires'],
    [{ expires: 4102444800001 }, 'body.expires'],
    [{ permissions: ['has space'] }, 'body.permissions[0]'],
    [{ permissions: [''] }, 'body.permissions[0]'],
    [{ roles: [''] }, 'body.roles[0]'],
    [{ credits: { remaining: -1 } }, 'body.credits.remaining'],
    [{ credits: { remaining: 5, refill: { interval: 'weekly', amount: 5 } } }, 'body.credits.refill.interval'],
    [{ credits: { remaining: 5, refill: { interval: 'daily', amount: 0 } } }, 'body.credits.refill.amount'],
    [{ ratelimits: [{ name: 'ab', limit: 1, duration: 1000 }] }, 'body.ratelimits[0].name'],
    [{ ratelimits: [{ name: 'abc', limit: 0, duration: 1000 }] }, 'body.ratelimits[0].limit'],
    [{ ratelimits: [{ name: 'abc', limit: 1, duration: 999 }] }, 'body.ratelimits[0].duration'],
    [{ enabled: 'yes' }, 'body.enabled'],
    [{ apiId: 'a' }, 'body.apiId'],
    [{ unknownField: 1 }, 'body.unknownField'],
  ])('%p is a 400 naming %s', async (patch, location) => {
    const res = await h.call('/v2/keys.createKey', { apiId, ...patch }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.type).toBe('https://unkey.com/docs/errors/unkey/application/invalid_input')
    expect(res.body.error.errors.map((e: any) => e.location)).toContain(location)
    expect(h.db.query('SELECT COUNT(*) AS n FROM keys').get()).toEqual({ n: 0 })
  })

  test.each([
    [{ remaining: null, refill: { interval: 'daily', amount: 5 } }, '`credits.remaining` must be provided when `credits.refill` is set.'],
    [{ remaining: 5, refill: { interval: 'monthly', amount: 5 } }, '`refillDay` must be provided when the refill interval is `monthly`.'],
    [{ remaining: 5, refill: { interval: 'daily', amount: 5, refillDay: 3 } }, '`refillDay` must not be provided when the refill interval is `daily`.'],
  ])('credits %p is a 400: %s', async (credits, detail) => {
    const res = await h.call('/v2/keys.createKey', { apiId, credits }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.detail).toBe(detail)
    expect(res.body.error.errors).toHaveLength(1)
  })

  test('duplicate ratelimit names are a 400', async () => {
    const r = { limit: 1, duration: 1000 }
    const res = await h.call(
      '/v2/keys.createKey',
      {
        apiId,
        ratelimits: [
          { name: 'same', ...r },
          { name: 'same', ...r },
        ],
      },
      root,
    )
    expect(res.status).toBe(400)
    expect(res.body.error.detail).toBe("Ratelimit with name 'same' is already defined in the request")
  })

  test('unknown or deleted API is a 404; nothing is written', async () => {
    const res = await h.call('/v2/keys.createKey', { apiId: 'api_doesnotexist' }, root)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(notFoundBody('api', 'The requested API does not exist or has been deleted.'))
    await h.ok('apis.deleteApi', { apiId }, root)
    expect((await h.call('/v2/keys.createKey', { apiId }, root)).status).toBe(404)
  })

  test('an unknown role is a 404 naming it and nothing is written', async () => {
    const res = await h.call('/v2/keys.createKey', { apiId, roles: ['admin'], externalId: 'u1', permissions: ['p1'] }, root)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(notFoundBody('role', "Role 'admin' was not found."))
    for (const table of ['keys', 'identities', 'permissions']) {
      expect(h.db.query(`SELECT COUNT(*) AS n FROM ${table}`).get()).toEqual({ n: 0 })
    }
  })
})

describe('recoverable keys', () => {
  test('without a master key, recoverable is a 412', async () => {
    const res = await h.call('/v2/keys.createKey', { apiId, recoverable: true }, root)
    expect(res.status).toBe(412)
    expect(res.body).toEqual(
      errorBody(
        412,
        'Precondition Failed',
        'unkey/application/precondition_failed',
        'Recoverable keys need a master key, and none is configured. Set LATCH_MASTER_KEY (32 bytes, base64 or hex) or run latch with a data directory.',
      ),
    )
  })

  test('with a master key: stored encrypted, decrypted only on request with decrypt_key', async () => {
    const r = new Harness({ masterKey: { key: TEST_MASTER_KEY } })
    const admin = await r.rootKey('ws')
    const api = (await r.ok('apis.createApi', { name: 'main' }, admin)).apiId
    const { keyId, key } = await r.ok('keys.createKey', { apiId: api, recoverable: true }, admin)
    const row: any = r.db.query('SELECT encrypted FROM keys WHERE id = ?').get(keyId)
    expect(row.encrypted).toStartWith('v1.')
    expect(row.encrypted.includes(key)).toBe(false)
    expect((await r.ok('keys.getKey', { keyId }, admin)).plaintext).toBeUndefined()
    expect((await r.ok('keys.getKey', { keyId, decrypt: true }, admin)).plaintext).toBe(key)
    const listed = await r.ok('apis.listKeys', { apiId: api, decrypt: true }, admin)
    expect(listed[0].plaintext).toBe(key)
    const reader = await r.rootKey('ws', ['api.*.read_key', 'api.*.read_api'])
    const denied = await r.call('/v2/keys.getKey', { keyId, decrypt: true }, reader)
    expect(denied.status).toBe(403)
    expect(denied.body.error.detail).toBe(`Your key does not have the required 'api.*.decrypt_key' or 'api.${api}.decrypt_key' permission`)
    await r.close()
  })

  test('a master key file is created with mode 0600 on first use', async () => {
    const file = join(h.dir, 'data', 'master.key')
    const r = new Harness({ masterKey: { file } })
    const admin = await r.rootKey('ws')
    const api = (await r.ok('apis.createApi', { name: 'main' }, admin)).apiId
    const { keyId, key } = await r.ok('keys.createKey', { apiId: api, recoverable: true }, admin)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect((await r.ok('keys.getKey', { keyId, decrypt: true }, admin)).plaintext).toBe(key)
    await r.close()
  })
})
