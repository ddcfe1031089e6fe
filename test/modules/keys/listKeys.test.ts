// apis.listKeys, served by src/modules/keys/routes.ts: an API's keys, paged by
// cursor, filtered by externalId, without hashes.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let root: string
let apiId: string
let create: KeysFixture['create']
withKeys((f) => ({ h, root, apiId, create } = f))

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

  test('listKeys never includes hashes', async () => {
    const { keyId } = await create()
    const row: any = h.db.query('SELECT hash FROM keys WHERE id = ?').get(keyId)
    expect(JSON.stringify(await h.ok('apis.listKeys', { apiId }, root))).not.toContain(row.hash)
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
