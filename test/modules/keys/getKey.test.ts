// keys.getKey: a key by id, without its hash. Everything createKey stores is
// checked through getKey in createKey.test.ts.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { type KeysFixture, keyNotFound, withKeys } from '../../support/keys'

let h: Harness
let root: string
let create: KeysFixture['create']
let get: KeysFixture['get']
withKeys((f) => ({ h, root, create, get } = f))

describe('keys.getKey', () => {
  test('getKey of an unknown, deleted or foreign key is a 404', async () => {
    expect((await h.call('/v2/keys.getKey', { keyId: 'key_missing' }, root)).body).toEqual(keyNotFound)
    const { keyId } = await create()
    await h.ok('keys.deleteKey', { keyId }, root)
    const res = await h.call('/v2/keys.getKey', { keyId }, root)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(keyNotFound)
  })

  test('getKey never includes the hash', async () => {
    const { keyId } = await create()
    const row: any = h.db.query('SELECT hash FROM keys WHERE id = ?').get(keyId)
    expect(JSON.stringify(await get(keyId))).not.toContain(row.hash)
  })
})
