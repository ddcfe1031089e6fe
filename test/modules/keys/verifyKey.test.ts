// keys.verifyKey: the outcome codes and their order, spending credits,
// refills (on verify and by the scheduler), the verification cache and the
// events it records. Ratelimits and permission queries have their own files
// (verifyKey.ratelimits, verifyKey.permissions).
import { describe, expect, test } from 'bun:test'
import { type Harness, REQUEST_ID } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let root: string
let apiId: string
let create: KeysFixture['create']
let verify: KeysFixture['verify']
withKeys((f) => ({ h, root, apiId, create, verify } = f))

describe('keys.verifyKey outcomes', () => {
  test('VALID returns the key’s details in the envelope', async () => {
    const { key, keyId } = await create({ name: 'n', meta: { a: 1 }, externalId: 'u1', permissions: ['p'], expires: h.clock.now() + 60_000 })
    const res = await h.call('/v2/keys.verifyKey', { key }, root)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {
        valid: true,
        code: 'VALID',
        keyId,
        name: 'n',
        meta: { a: 1 },
        expires: h.clock.now() + 60_000,
        enabled: true,
        permissions: ['p'],
        identity: { id: expect.stringMatching(/^id_/), externalId: 'u1' },
      },
    })
  })

  test('NOT_FOUND for an unknown key is only valid and code', async () => {
    expect(await verify({ key: 'sk_doesnotexist' })).toEqual({ valid: false, code: 'NOT_FOUND' })
  })

  test('NOT_FOUND is identical for unknown, deleted, deleted-API and other-workspace keys', async () => {
    const deleted = await create()
    await h.ok('keys.deleteKey', { keyId: deleted.keyId }, root)
    const otherRoot = await h.rootKey('other')
    const otherApi = (await h.ok('apis.createApi', { name: 'other' }, otherRoot)).apiId
    const foreign = await h.ok('keys.createKey', { apiId: otherApi }, otherRoot)
    const doomedApi = (await h.ok('apis.createApi', { name: 'doomed' }, root)).apiId
    const ofDeletedApi = await h.ok('keys.createKey', { apiId: doomedApi }, root)
    expect((await verify({ key: ofDeletedApi.key })).code).toBe('VALID')
    await h.ok('apis.deleteApi', { apiId: doomedApi }, root)
    const results = await Promise.all([
      h.call('/v2/keys.verifyKey', { key: 'unknown_key_123' }, root),
      h.call('/v2/keys.verifyKey', { key: deleted.key }, root),
      h.call('/v2/keys.verifyKey', { key: foreign.key }, root),
      h.call('/v2/keys.verifyKey', { key: ofDeletedApi.key }, root),
    ])
    for (const r of results) {
      expect(r.status).toBe(200)
      expect(r.body.data).toEqual({ valid: false, code: 'NOT_FOUND' })
    }
  })

  test('DISABLED and EXPIRED', async () => {
    const disabled = await create({ enabled: false })
    expect(await verify({ key: disabled.key })).toMatchObject({ valid: false, code: 'DISABLED', enabled: false })
    const expiring = await create({ expires: h.clock.now() + 1000 })
    expect((await verify({ key: expiring.key })).code).toBe('VALID')
    h.clock.advance(1000)
    expect(await verify({ key: expiring.key })).toMatchObject({ valid: false, code: 'EXPIRED' })
  })

  test('DISABLED comes before EXPIRED, EXPIRED before credits', async () => {
    const both = await create({ enabled: false, expires: h.clock.now() - 1, credits: { remaining: 0 } })
    expect((await verify({ key: both.key })).code).toBe('DISABLED')
    const expiredNoCredits = await create({ expires: h.clock.now() - 1, credits: { remaining: 0 } })
    expect((await verify({ key: expiredNoCredits.key })).code).toBe('EXPIRED')
  })

  test('a root key with verify_key for another API only gets NOT_FOUND', async () => {
    const { key } = await create()
    const limited = await h.rootKey('ws', ['api.api_someother.verify_key'])
    expect(await verify({ key }, limited)).toEqual({ valid: false, code: 'NOT_FOUND' })
    const specific = await h.rootKey('ws', [`api.${apiId}.verify_key`])
    expect((await verify({ key }, specific)).code).toBe('VALID')
  })

  test('apiId is not a verifyKey field (400)', async () => {
    const { key } = await create()
    const res = await h.call('/v2/keys.verifyKey', { key, apiId }, root)
    expect(res.status).toBe(400)
    expect(res.body.error.errors[0].location).toBe('body.apiId')
  })
})

describe('credits', () => {
  test('each verify costs 1 by default, or credits.cost; never below zero', async () => {
    const { key } = await create({ credits: { remaining: 5 } })
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 4 })
    expect(await verify({ key, credits: { cost: 3 } })).toMatchObject({ valid: true, credits: 1 })
    expect(await verify({ key, credits: { cost: 2 } })).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', credits: 0 })
    // Nothing was spent by the refused call.
    expect(await verify({ key, credits: { cost: 0 } })).toMatchObject({ valid: true, credits: 1 })
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 0 })
    expect(await verify({ key })).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', credits: 0 })
  })

  test('cost 0 always passes, even with nothing left', async () => {
    const { key } = await create({ credits: { remaining: 0 } })
    expect(await verify({ key, credits: { cost: 0 } })).toMatchObject({ valid: true, code: 'VALID', credits: 0 })
  })

  test('under many concurrent verifies of a key with N credits, exactly N succeed', async () => {
    const { key, keyId } = await create({ credits: { remaining: 50 } })
    const results = await Promise.all(Array.from({ length: 200 }, () => h.call('/v2/keys.verifyKey', { key }, root)))
    const valid = results.filter((r) => r.body.data.valid).length
    expect(valid).toBe(50)
    expect(results.filter((r) => r.body.data.code === 'USAGE_EXCEEDED')).toHaveLength(150)
    await h.services.flush()
    expect(h.db.query('SELECT remaining FROM keys WHERE id = ?').get(keyId)).toEqual({ remaining: 0 })
  })

  test('a spend is in the database when its answer arrives, without any flush', async () => {
    const { key, keyId } = await create({ credits: { remaining: 10 } })
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 9 })
    expect(h.db.query('SELECT remaining FROM keys WHERE id = ?').get(keyId)).toEqual({ remaining: 9 })
  })

  test('spent credits survive a restart of the services', async () => {
    const { key, keyId } = await create({ credits: { remaining: 10 } })
    for (let i = 0; i < 3; i++) await verify({ key })
    // getKey sees the spent credits (it flushes first).
    expect((await h.ok('keys.getKey', { keyId }, root)).credits.remaining).toBe(7)
    await verify({ key })
    await h.services.flush()
    expect(h.db.query('SELECT remaining FROM keys WHERE id = ?').get(keyId)).toEqual({ remaining: 6 })
  })
})

describe('refill (controllable clock)', () => {
  const DAY = 86_400_000

  test('daily refill sets remaining to the amount at 00:00 UTC', async () => {
    h.clock.set(Date.UTC(2026, 5, 15, 22, 0))
    const { key } = await create({ credits: { remaining: 2, refill: { interval: 'daily', amount: 5 } } })
    await verify({ key })
    await verify({ key })
    expect((await verify({ key })).code).toBe('USAGE_EXCEEDED')
    h.clock.set(Date.UTC(2026, 5, 15, 23, 59, 59))
    expect((await verify({ key })).code).toBe('USAGE_EXCEEDED')
    h.clock.set(Date.UTC(2026, 5, 16, 0, 0, 1))
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 4 })
    // Only once per day.
    h.clock.advance(DAY / 2)
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 3 })
  })

  test('monthly refill on refillDay; in short months on the last day', async () => {
    h.clock.set(Date.UTC(2026, 0, 20))
    const { key } = await create({ credits: { remaining: 0, refill: { interval: 'monthly', amount: 3, refillDay: 31 } } })
    expect((await verify({ key })).code).toBe('USAGE_EXCEEDED')
    h.clock.set(Date.UTC(2026, 0, 31, 0, 0, 1))
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 2 })
    h.clock.set(Date.UTC(2026, 1, 27, 12))
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 1 })
    // February 2026 has 28 days: refill on the 28th.
    h.clock.set(Date.UTC(2026, 1, 28, 0, 0, 1))
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 2 })
    h.clock.set(Date.UTC(2026, 2, 30))
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 1 })
    h.clock.set(Date.UTC(2026, 2, 31, 1))
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 2 })
  })

  test('the scheduler refills keys nobody verifies, including refills missed while down', async () => {
    h.clock.set(Date.UTC(2026, 5, 15, 12))
    const { keyId } = await create({ credits: { remaining: 0, refill: { interval: 'daily', amount: 7 } } })
    expect(await h.services.credits.runRefills()).toBe(0)
    // Three days pass with latch stopped; the first job run refills once.
    h.clock.set(Date.UTC(2026, 5, 18, 9))
    expect(await h.services.credits.runRefills()).toBe(1)
    expect(await h.services.credits.runRefills()).toBe(0)
    expect(h.db.query('SELECT remaining, last_refill_at FROM keys WHERE id = ?').get(keyId)).toEqual({
      remaining: 7,
      last_refill_at: Date.UTC(2026, 5, 18, 9),
    })
    expect((await h.ok('keys.getKey', { keyId }, root)).credits).toEqual({ remaining: 7, refill: { interval: 'daily', amount: 7 } })
  })

  test('the scheduler refills monthly keys on their day, and on the last day of a shorter month', async () => {
    h.clock.set(Date.UTC(2026, 0, 10))
    const on31 = await create({ credits: { remaining: 0, refill: { interval: 'monthly', amount: 4, refillDay: 31 } } })
    const on15 = await create({ credits: { remaining: 0, refill: { interval: 'monthly', amount: 6, refillDay: 15 } } })
    const remaining = (keyId: string) => (h.db.query('SELECT remaining FROM keys WHERE id = ?').get(keyId) as any).remaining
    h.clock.set(Date.UTC(2026, 0, 14, 23))
    expect(await h.services.credits.runRefills()).toBe(0)
    h.clock.set(Date.UTC(2026, 0, 15, 0, 1))
    expect(await h.services.credits.runRefills()).toBe(1)
    expect([remaining(on15.keyId), remaining(on31.keyId)]).toEqual([6, 0])
    h.clock.set(Date.UTC(2026, 1, 28, 0, 1))
    expect(await h.services.credits.runRefills()).toBe(2)
    expect([remaining(on15.keyId), remaining(on31.keyId)]).toEqual([6, 4])
    expect(await h.services.credits.runRefills()).toBe(0)
  })

  test('a refill never lowers a larger balance', async () => {
    h.clock.set(Date.UTC(2026, 5, 15, 12))
    const { key } = await create({ credits: { remaining: 50, refill: { interval: 'daily', amount: 10 } } })
    h.clock.set(Date.UTC(2026, 5, 16, 12))
    expect(await verify({ key })).toMatchObject({ valid: true, credits: 49 })
  })
})

describe('verification cache', () => {
  /** Runs five warm verifies of `key` and returns every statement they ran. */
  async function statementsOfWarmVerifies(key: string): Promise<string[]> {
    await verify({ key })
    // Wrap every prepared statement of the services involved, and new ones too.
    const touched: string[] = []
    const spy = (stmt: any, label: string) => {
      for (const method of ['get', 'all', 'run', 'values', 'iterate']) {
        const original = stmt[method]?.bind(stmt)
        if (original) stmt[method] = (...args: unknown[]) => (touched.push(label), original(...args))
      }
    }
    // Every store's prepared statements.
    for (const store of Object.values(h.stores) as any[]) {
      for (const [name, stmt] of Object.entries(store?.stmt ?? {})) spy(stmt, name)
    }
    const query = h.db.query.bind(h.db)
    h.db.query = ((sql: string) => (touched.push(sql), query(sql))) as typeof h.db.query
    for (let i = 0; i < 5; i++) expect((await verify({ key })).valid).toBe(true)
    h.db.query = query
    return touched
  }

  test('a warm verify does not touch the database', async () => {
    const { key } = await create({ externalId: 'u1', permissions: ['p'] })
    expect(await statementsOfWarmVerifies(key)).toEqual([])
  })

  test('a warm verify of a key with credits reads nothing and writes only its balance, before answering', async () => {
    const { key } = await create({ credits: { remaining: 100 }, externalId: 'u1', permissions: ['p'] })
    expect(await statementsOfWarmVerifies(key)).toEqual(['setCredits', 'setCredits', 'setCredits', 'setCredits', 'setCredits'])
  })
})

describe('verification events', () => {
  test('every verify is recorded with outcome, tags and credits, batched until flush', async () => {
    const { key, keyId } = await create({ externalId: 'u1', credits: { remaining: 1 } })
    await verify({ key, tags: ['path=/v1', 'region=eu'] })
    await verify({ key })
    await verify({ key: 'nope_123' })
    expect(h.db.query('SELECT COUNT(*) AS n FROM verification_events').get()).toEqual({ n: 0 })
    await h.services.flush()
    const rows: any[] = h.db.query('SELECT * FROM verification_events ORDER BY id').all()
    expect(rows.map((r) => [r.key_id, r.outcome, r.tags, r.credits_spent])).toEqual([
      [keyId, 'VALID', '["path=/v1","region=eu"]', 1],
      [keyId, 'USAGE_EXCEEDED', null, 0],
      [null, 'NOT_FOUND', null, 0],
    ])
    expect(rows[0].identity_id).toMatch(/^id_/)
    expect(rows[0].api_id).toBe(apiId)
    expect((h.db.query('SELECT at FROM key_last_used WHERE key_id = ?').get(keyId) as any).at).toBe(h.clock.now())
  })
})
