// keys.deleteKey: soft by default, permanent on request.
import { describe, expect, test } from 'bun:test'
import { type Harness, REQUEST_ID } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let root: string
let create: KeysFixture['create']
let verify: KeysFixture['verify']
withKeys((f) => ({ h, root, create, verify } = f))

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

describe('keys.deleteKey: the next verify sees the change', () => {
  test('a cached key stops verifying at once', async () => {
    const a = await create()
    await verify({ key: a.key })
    await h.ok('keys.deleteKey', { keyId: a.keyId }, root)
    expect((await verify({ key: a.key })).code).toBe('NOT_FOUND')
  })
})
