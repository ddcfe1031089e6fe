import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { errorBody, Harness, notFoundBody, REQUEST_ID, withApi } from '../../support/harness'

let h: Harness
let root: string
let apiId: string
withApi((f) => ({ h, root, apiId } = f))

const create = async (body: Record<string, unknown> = {}) => h.ok('keys.createKey', { apiId, ...body }, root) as Promise<{ keyId: string; key: string }>
const get = (keyId: string) => h.ok('keys.getKey', { keyId }, root)
const keyNotFound = notFoundBody('key', 'The requested key does not exist or has been deleted.')

describe('keys.getKey and keys.whoami', () => {
  test('getKey of an unknown, deleted or foreign key is a 404', async () => {
    expect((await h.call('/v2/keys.getKey', { keyId: 'key_missing' }, root)).body).toEqual(keyNotFound)
    const { keyId } = await create()
    await h.ok('keys.deleteKey', { keyId }, root)
    const res = await h.call('/v2/keys.getKey', { keyId }, root)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(keyNotFound)
  })

  test('whoami finds a key by the key itself and never returns secrets', async () => {
    const { key, keyId } = await create({ name: 'mine' })
    const res = await h.call('/v2/keys.whoami', { key }, root)
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({ keyId, start: key.slice(0, 4), enabled: true, name: 'mine', createdAt: h.clock.now() })
    expect(JSON.stringify(res.body)).not.toContain(key)
    const missing = await h.call('/v2/keys.whoami', { key: 'not_a_key' }, root)
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual(keyNotFound)
  })

  test('getKey and listKeys never include hashes', async () => {
    const { keyId } = await create()
    const row: any = h.db.query('SELECT hash FROM keys WHERE id = ?').get(keyId)
    expect(JSON.stringify(await get(keyId))).not.toContain(row.hash)
    expect(JSON.stringify(await h.ok('apis.listKeys', { apiId }, root))).not.toContain(row.hash)
  })
})

describe('keys.updateKey three-state semantics', () => {
  const full = {
    name: 'name',
    externalId: 'user_1',
    meta: { a: 1 },
    expires: Date.UTC(2031, 0, 1),
    credits: { remaining: 10, refill: { interval: 'daily', amount: 10 } },
  }

  test('omitted fields stay unchanged', async () => {
    const { keyId } = await create(full)
    const before = await get(keyId)
    await h.ok('keys.updateKey', { keyId }, root)
    const after = await get(keyId)
    expect({ ...after, updatedAt: undefined }).toEqual({ ...before, updatedAt: undefined })
    expect(after.updatedAt).toBe(h.clock.now())
  })

  test.each([
    ['name', 'name'],
    ['externalId', 'identity'],
    ['meta', 'meta'],
    ['expires', 'expires'],
    ['credits', 'credits'],
  ])('%s: null clears it, and it is omitted from responses', async (field, responseField) => {
    const { keyId, key } = await create(full)
    expect((await get(keyId))[responseField]).toBeDefined()
    await h.ok('keys.updateKey', { keyId, [field]: null }, root)
    const after = await get(keyId)
    expect(responseField in after).toBe(false)
    expect(JSON.stringify(after)).not.toContain('null')
    const verified = await h.ok('keys.verifyKey', { key }, root)
    expect(JSON.stringify(verified)).not.toContain('null')
  })

  test.each([
    ['name', 'renamed', 'name', 'renamed'],
    ['meta', { b: 2 }, 'meta', { b: 2 }],
    ['expires', Date.UTC(2032, 1, 1), 'expires', Date.UTC(2032, 1, 1)],
    ['enabled', false, 'enabled', false],
  ])('%s: a value sets it', async (field, value, responseField, expected) => {
    const { keyId } = await create(full)
    await h.ok('keys.updateKey', { keyId, [field]: value }, root)
    expect((await get(keyId))[responseField]).toEqual(expected)
  })

  test('externalId: a value relinks to (or creates) an identity', async () => {
    const { keyId } = await create(full)
    await h.ok('keys.updateKey', { keyId, externalId: 'user_2' }, root)
    expect((await get(keyId)).identity.externalId).toBe('user_2')
  })

  test('credits.remaining null clears balance and refill; credits.refill null clears only the refill', async () => {
    const a = await create(full)
    await h.ok('keys.updateKey', { keyId: a.keyId, credits: { remaining: null } }, root)
    expect((await get(a.keyId)).credits).toBeUndefined()
    const b = await create(full)
    await h.ok('keys.updateKey', { keyId: b.keyId, credits: { refill: null } }, root)
    expect((await get(b.keyId)).credits).toEqual({ remaining: 10 })
    await h.ok('keys.updateKey', { keyId: b.keyId, credits: { remaining: 3, refill: { interval: 'monthly', amount: 9, refillDay: 2 } } }, root)
    expect((await get(b.keyId)).credits).toEqual({ remaining: 3, refill: { interval: 'monthly', amount: 9, refillDay: 2 } })
  })

  test('ratelimits replace by name, keeping the ids of names that survive', async () => {
    const { keyId } = await create({
      ratelimits: [
        { name: 'keep', limit: 1, duration: 1000 },
        { name: 'drop', limit: 2, duration: 2000 },
      ],
    })
    const before = (await get(keyId)).ratelimits
    const keepId = before.find((r: any) => r.name === 'keep').id
    await h.ok('keys.updateKey', { keyId, ratelimits: [{ name: 'keep', limit: 5, duration: 5000, autoApply: true }, { name: 'new', limit: 3, duration: 3000 }] }, root)
    const after = (await get(keyId)).ratelimits
    expect(after).toEqual([
      { id: keepId, name: 'keep', limit: 5, duration: 5000, autoApply: true },
      { id: expect.stringMatching(/^rl_/), name: 'new', limit: 3, duration: 3000, autoApply: false },
    ])
    await h.ok('keys.updateKey', { keyId, ratelimits: [] }, root)
    expect((await get(keyId)).ratelimits).toBeUndefined()
  })

  test('permissions replace the direct set', async () => {
    const { keyId } = await create({ permissions: ['a', 'b'] })
    await h.ok('keys.updateKey', { keyId, permissions: ['c'] }, root)
    expect((await get(keyId)).permissions).toEqual(['c'])
  })

  test('validation and 404', async () => {
    const { keyId } = await create()
    const bad = await h.call('/v2/keys.updateKey', { keyId, name: '' }, root)
    expect(bad.status).toBe(400)
    expect(bad.body.error.errors[0].location).toBe('body.name')
    const daily = await h.call('/v2/keys.updateKey', { keyId, credits: { remaining: 1, refill: { interval: 'daily', amount: 1, refillDay: 1 } } }, root)
    expect(daily.status).toBe(400)
    expect(daily.body.error.detail).toBe('`refillDay` must not be provided when the refill interval is `daily`.')
    const unlimitedRefill = await h.call('/v2/keys.updateKey', { keyId, credits: { refill: { interval: 'daily', amount: 1 } } }, root)
    expect(unlimitedRefill.status).toBe(400)
    expect((await h.call('/v2/keys.updateKey', { keyId: 'key_missing', name: 'x' }, root)).body).toEqual(keyNotFound)
  })

  test('a failing part leaves nothing half-written', async () => {
    const { keyId } = await create({ name: 'before' })
    const res = await h.call('/v2/keys.updateKey', { keyId, name: 'after', externalId: 'someone', roles: ['missing-role'] }, root)
    expect(res.status).toBe(404)
    const key = await get(keyId)
    expect(key.name).toBe('before')
    expect(key.identity).toBeUndefined()
    expect(h.db.query('SELECT COUNT(*) AS n FROM identities').get()).toEqual({ n: 0 })
  })
})

describe('keys.deleteKey', () => {
  test('soft by default: NOT_FOUND afterwards, second delete is 404, the row stays', async () => {
    const { keyId, key } = await create()
    expect((await h.call('/v2/keys.deleteKey', { keyId }, root)).body).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect((await h.ok('keys.verifyKey', { key }, root)).code).toBe('NOT_FOUND')
    expect((await h.call('/v2/keys.deleteKey', { keyId }, root)).status).toBe(404)
    expect(h.db.query('SELECT COUNT(*) AS n FROM keys WHERE id = ?').get(keyId)).toEqual({ n: 1 })
  })

  test('permanent removes the row and its ratelimits and permissions', async () => {
    const { keyId } = await create({ permissions: ['a'], ratelimits: [{ name: 'abc', limit: 1, duration: 1000 }] })
    await h.ok('keys.deleteKey', { keyId, permanent: true }, root)
    for (const table of ['keys WHERE id = ?', 'ratelimits WHERE key_id = ?', 'keys_permissions WHERE key_id = ?']) {
      expect(h.db.query(`SELECT COUNT(*) AS n FROM ${table}`).get(keyId)).toEqual({ n: 0 })
    }
  })
})

describe('keys.updateCredits', () => {
  test('set, increment, decrement (floored at zero), set null = unlimited', async () => {
    const { keyId } = await create({ credits: { remaining: 5, refill: { interval: 'daily', amount: 5 } } })
    const call = (operation: string, value?: number | null) => h.ok('keys.updateCredits', { keyId, operation, ...(value !== undefined ? { value } : {}) }, root)
    expect(await call('increment', 3)).toEqual({ remaining: 8, refill: { interval: 'daily', amount: 5 } })
    expect(await call('decrement', 100)).toEqual({ remaining: 0, refill: { interval: 'daily', amount: 5 } })
    expect(await call('set', 42)).toEqual({ remaining: 42, refill: { interval: 'daily', amount: 5 } })
    expect(await call('set', null)).toEqual({ remaining: null })
    expect((await get(keyId)).credits).toBeUndefined()
  })

  test('errors: missing value, unlimited key, bad operation', async () => {
    const limited = await create({ credits: { remaining: 5 } })
    const noValue = await h.call('/v2/keys.updateCredits', { keyId: limited.keyId, operation: 'increment' }, root)
    expect(noValue.status).toBe(400)
    expect(noValue.body.error.detail).toBe('When specifying an increment or decrement operation, a value must be provided.')
    const unlimited = await create()
    const res = await h.call('/v2/keys.updateCredits', { keyId: unlimited.keyId, operation: 'decrement', value: 1 }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.detail).toBe('You cannot increment or decrement a key with unlimited credits.')
    const op = await h.call('/v2/keys.updateCredits', { keyId: limited.keyId, operation: 'multiply', value: 2 }, root)
    expect(op.status).toBe(400)
    expect(op.body.error.errors[0].location).toBe('body.operation')
    const negative = await h.call('/v2/keys.updateCredits', { keyId: limited.keyId, operation: 'set', value: -1 }, root)
    expect(negative.status).toBe(400)
  })
})

describe('keys.rerollKey', () => {
  test('the new key copies everything; the old one expires after the given time', async () => {
    const old = await create({
      prefix: 'sk',
      name: 'n',
      meta: { m: 1 },
      externalId: 'u1',
      permissions: ['read'],
      credits: { remaining: 9, refill: { interval: 'daily', amount: 9 } },
      ratelimits: [{ name: 'rl1', limit: 5, duration: 1000, autoApply: true }],
      expires: Date.UTC(2035, 0, 1),
    })
    const res = await h.call('/v2/keys.rerollKey', { keyId: old.keyId, expiration: 60_000 }, root)
    expect(res.status).toBe(200)
    const fresh = res.body.data
    expect(fresh.key).toStartWith('sk_')
    expect(fresh.keyId).not.toBe(old.keyId)
    const a = await get(old.keyId)
    const b = await get(fresh.keyId)
    for (const field of ['name', 'meta', 'identity', 'enabled', 'permissions', 'credits']) expect(b[field]).toEqual(a[field])
    expect(b.expires).toBe(Date.UTC(2035, 0, 1))
    expect(b.ratelimits.map((r: any) => ({ ...r, id: undefined }))).toEqual(a.ratelimits.map((r: any) => ({ ...r, id: undefined })))
    expect(a.expires).toBe(h.clock.now() + 60_000)
    expect((await h.ok('keys.verifyKey', { key: old.key }, root)).code).toBe('VALID')
    h.clock.advance(60_000)
    expect((await h.ok('keys.verifyKey', { key: old.key }, root)).code).toBe('EXPIRED')
    expect((await h.ok('keys.verifyKey', { key: fresh.key }, root)).code).toBe('VALID')
  })

  test('expiration 0 ends the old key now', async () => {
    const old = await create()
    await h.ok('keys.rerollKey', { keyId: old.keyId, expiration: 0 }, root)
    expect((await h.ok('keys.verifyKey', { key: old.key }, root)).code).toBe('EXPIRED')
  })

  test('validation and 404', async () => {
    const old = await create()
    expect((await h.call('/v2/keys.rerollKey', { keyId: old.keyId }, root)).status).toBe(400)
    expect((await h.call('/v2/keys.rerollKey', { keyId: old.keyId, expiration: -5 }, root)).status).toBe(400)
    expect((await h.call('/v2/keys.rerollKey', { keyId: 'key_missing', expiration: 0 }, root)).body).toEqual(keyNotFound)
  })
})

describe('apis.listKeys', () => {
  test('pages by cursor; hasMore always present; no cursor on the last page', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await create({ name: `k${i}` })).keyId)
    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const res = await h.call('/v2/apis.listKeys', { apiId, limit: 2, ...(cursor ? { cursor } : {}) }, root)
      expect(res.status).toBe(200)
      seen.push(...res.body.data.map((k: any) => k.keyId))
      cursor = res.body.pagination.cursor
      expect(res.body.pagination.hasMore).toBe(cursor !== undefined)
      if (!cursor) expect(Object.keys(res.body.pagination)).toEqual(['hasMore'])
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual([...ids].sort())
  })

  test('externalId filters by identity; an unknown one gives an empty list', async () => {
    await create({ externalId: 'a' })
    const b = await create({ externalId: 'b' })
    expect((await h.ok('apis.listKeys', { apiId, externalId: 'b' }, root)).map((k: any) => k.keyId)).toEqual([b.keyId])
    const none = await h.call('/v2/apis.listKeys', { apiId, externalId: 'nobody' }, root)
    expect(none.body.data).toEqual([])
    expect(none.body.pagination).toEqual({ hasMore: false })
  })

  test('deleted keys are not listed; unknown API is a 404; decrypt without master key is a 412', async () => {
    const { keyId } = await create()
    await h.ok('keys.deleteKey', { keyId }, root)
    expect(await h.ok('apis.listKeys', { apiId }, root)).toEqual([])
    expect((await h.call('/v2/apis.listKeys', { apiId: 'api_missing' }, root)).status).toBe(404)
    await create({})
    const r = await h.call('/v2/apis.listKeys', { apiId, limit: 0 }, root)
    expect(r.status).toBe(400)
    expect(r.body.error.errors[0].location).toBe('body.limit')
  })
})

describe('keys.migrateKeys', () => {
  test('sha256_base64 hashes verify immediately; duplicates are reported as failed', async () => {
    const ws = await h.workspaceId('ws')
    const migration = await h.services.keyMigrations.create(ws, 'sha256_base64')
    const plaintext = 'legacy_key_abcdef123456'
    const hash = createHash('sha256').update(plaintext).digest('base64')
    const res = await h.call('/v2/keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash, name: 'imported', credits: { remaining: 2 } }, { hash }] }, root)
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({ migrated: [{ hash, keyId: expect.stringMatching(/^key_/) }], failed: [hash] })
    const v = await h.ok('keys.verifyKey', { key: plaintext }, root)
    expect(v).toMatchObject({ valid: true, name: 'imported', credits: 1 })
    expect((await get(v.keyId)).start).toBe('legacy_key_')
    const again = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash }] }, root)
    expect(again).toEqual({ migrated: [], failed: [hash] })
  })

  test('sha256_hex hashes are rewritten on the first verification with the migration id', async () => {
    const ws = await h.workspaceId('ws')
    const migration = await h.services.keyMigrations.create(ws, 'sha256_hex')
    const plaintext = 'old_system_key_99'
    const hex = createHash('sha256').update(plaintext).digest('hex')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: hex }] }, root)
    expect((await h.ok('keys.verifyKey', { key: plaintext }, root)).code).toBe('NOT_FOUND')
    const v = await h.ok('keys.verifyKey', { key: plaintext, migrationId: migration.id }, root)
    expect(v).toMatchObject({ valid: true, keyId: migrated[0].keyId })
    const row: any = h.db.query('SELECT hash, pending_migration_id FROM keys WHERE id = ?').get(migrated[0].keyId)
    expect(row).toEqual({ hash: createHash('sha256').update(plaintext).digest('base64'), pending_migration_id: null })
    expect((await h.ok('keys.verifyKey', { key: plaintext }, root)).code).toBe('VALID')
  })

  test('unknown migration or another workspace’s migration is a 404', async () => {
    const other = await h.rootKey('other')
    const foreign = await h.services.keyMigrations.create(await h.workspaceId('other'), 'sha256_base64')
    expect(other).toBeString()
    for (const migrationId of ['mig_unknown', foreign.id]) {
      const res = await h.call('/v2/keys.migrateKeys', { migrationId, apiId, keys: [{ hash: 'abcdef' }] }, root)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(errorBody(404, 'Not Found', 'unkey/data/migration_not_found', 'The requested migration does not exist.'))
    }
  })
})
