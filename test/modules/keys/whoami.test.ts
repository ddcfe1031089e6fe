// keys.whoami: a key found by its plaintext, without secrets.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { type KeysFixture, keyNotFound, withKeys } from '../../support/keys'

let h: Harness
let root: string
let create: KeysFixture['create']
withKeys((f) => ({ h, root, create } = f))

describe('keys.whoami', () => {
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
})
