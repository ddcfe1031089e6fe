// keys.updateKey: three-state fields (omitted = unchanged, null = cleared,
// a value = set), replace semantics for ratelimits and permissions, all or
// nothing; a refill added to an old key starts from now.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { type KeysFixture, keyNotFound, withKeys } from '../../support/keys'

let h: Harness
let root: string
let create: KeysFixture['create']
let get: KeysFixture['get']
let verify: KeysFixture['verify']
withKeys((f) => ({ h, root, create, get, verify } = f))

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
    await h.ok(
      'keys.updateKey',
      {
        keyId,
        ratelimits: [
          { name: 'keep', limit: 5, duration: 5000, autoApply: true },
          { name: 'new', limit: 3, duration: 3000 },
        ],
      },
      root,
    )
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

describe('keys.updateKey: the refill schedule', () => {
  test('adding a refill to an old key does not refill it at once', async () => {
    const { keyId, key } = await create()
    h.clock.advance(3 * 86_400_000)
    await h.ok('keys.updateKey', { keyId, credits: { remaining: 0, refill: { interval: 'daily', amount: 100 } } }, root)
    expect((await h.ok('keys.verifyKey', { key }, root)).code).toBe('USAGE_EXCEEDED')
    h.clock.set(Math.ceil(h.clock.now() / 86_400_000) * 86_400_000 + 1)
    expect(await h.ok('keys.verifyKey', { key }, root)).toMatchObject({ valid: true, credits: 99 })
  })
})

describe('keys.updateKey: the next verify sees the change', () => {
  test('enabled, expires and meta', async () => {
    const { key, keyId } = await create({ meta: { v: 1 } })
    expect((await verify({ key })).meta).toEqual({ v: 1 })
    await h.ok('keys.updateKey', { keyId, enabled: false }, root)
    expect((await verify({ key })).code).toBe('DISABLED')
    await h.ok('keys.updateKey', { keyId, enabled: true, expires: h.clock.now() - 1, meta: { v: 2 } }, root)
    expect(await verify({ key })).toMatchObject({ code: 'EXPIRED', meta: { v: 2 } })
    await h.ok('keys.updateKey', { keyId, expires: null }, root)
    expect((await verify({ key })).code).toBe('VALID')
  })

  test('changed ratelimits apply to the next verify', async () => {
    const ws = await h.workspaceId('ws')
    const { key, keyId } = await create({ ratelimits: [{ name: 'rl1', limit: 1, duration: 60_000, autoApply: true }] })
    await verify({ key })
    expect((await verify({ key })).code).toBe('RATE_LIMITED')
    await h.ok('keys.updateKey', { keyId, ratelimits: [{ name: 'rl1', limit: 10, duration: 60_000, autoApply: true }] }, root)
    expect((await verify({ key })).code).toBe('VALID')
    await h.ok('keys.updateKey', { keyId, ratelimits: [] }, root)
    expect((await verify({ key })).ratelimits).toBeUndefined()
    expect(ws).toMatch(/^ws_/)
  })
})
