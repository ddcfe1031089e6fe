// keys.rerollKey: a new key with the old one's settings; the old one expires
// after the given time.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { type KeysFixture, keyNotFound, withKeys } from '../../support/keys'

let h: Harness
let root: string
let create: KeysFixture['create']
let get: KeysFixture['get']
withKeys((f) => ({ h, root, create, get } = f))

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
