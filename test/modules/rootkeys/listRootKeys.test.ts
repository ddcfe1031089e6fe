// rootKeys.listRootKeys: the workspace's root keys page by page, revoked and
// expired ones with their status, never a hash or a secret.
import { describe, expect, test } from 'bun:test'
import { type Harness, invalidBody, REQUEST_ID, withHarness } from '../../support/harness'
import { issueRootKey } from './fixture'

let h: Harness
let root: string
withHarness((f) => {
  ;({ h, root } = f)
})

describe('rootKeys.listRootKeys', () => {
  test('lists every key of the workspace in id order with its status and times', async () => {
    const now = h.clock.now()
    const revoked = await issueRootKey(h, ['api.*.read_api'], { name: 'old' })
    await h.services.rootKeys.revoke(revoked.rootKeyId)
    const expired = await issueRootKey(h, ['audit.*.read_logs'], { name: 'temp', expiresAt: now + 1000 })
    h.clock.advance(1000)
    await h.call('/v2/rootKeys.whoami', {}, root)
    await h.services.flush()
    const res = await h.call('/v2/rootKeys.listRootKeys', {}, root)
    expect(res.status).toBe(200)
    const ids = res.body.data.map((k: any) => k.id)
    expect(ids).toEqual([...ids].sort())
    expect(res.body.pagination).toEqual({ hasMore: false })
    const byName = Object.fromEntries(res.body.data.map((k: any) => [k.name, k]))
    expect(Object.keys(byName).sort()).toEqual(['old', 'temp', 'test *'])
    expect(byName.old).toEqual({
      id: revoked.rootKeyId,
      name: 'old',
      start: expect.stringMatching(/^unkey_/),
      permissions: ['api.*.read_api'],
      createdAt: now,
      revokedAt: now,
      status: 'revoked',
    })
    expect(byName.temp).toEqual({
      id: expired.rootKeyId,
      name: 'temp',
      start: expect.stringMatching(/^unkey_/),
      permissions: ['audit.*.read_logs'],
      createdAt: now,
      expiresAt: now + 1000,
      status: 'expired',
    })
    expect(byName['test *']).toMatchObject({ permissions: ['*'], lastUsedAt: now + 1000, status: 'active' })
  })

  test('shows no hash and no secret', async () => {
    const { key } = await issueRootKey(h, ['api.*.read_api'])
    const text = JSON.stringify((await h.call('/v2/rootKeys.listRootKeys', {}, root)).body)
    const hashes = h.db.query<{ hash: string }, []>('SELECT hash FROM root_keys').all()
    for (const { hash } of hashes) expect(text).not.toContain(hash)
    expect(text).not.toContain(key)
    expect(text).not.toContain(root)
  })

  test('pages with limit and cursor, each key once', async () => {
    for (let i = 0; i < 4; i++) await issueRootKey(h, ['api.*.read_api'], { name: `k${i}` })
    const seen: string[] = []
    let cursor: string | undefined
    for (let page = 0; page < 3; page++) {
      const res = await h.call('/v2/rootKeys.listRootKeys', { limit: 2, ...(cursor ? { cursor } : {}) }, root)
      expect(res.body.meta).toEqual({ requestId: REQUEST_ID })
      seen.push(...res.body.data.map((k: any) => k.id))
      expect(res.body.pagination.hasMore).toBe(page < 2)
      cursor = res.body.pagination.cursor
    }
    expect(seen).toHaveLength(5)
    expect(new Set(seen).size).toBe(5)
    expect(cursor).toBeUndefined()
  })

  test('never lists the keys of another workspace', async () => {
    const other = await issueRootKey(h, ['*'], { workspace: 'other-ws' })
    const ids = (await h.ok('rootKeys.listRootKeys', {}, root)).map((k: any) => k.id)
    expect(ids).toHaveLength(1)
    expect(ids).not.toContain(other.rootKeyId)
  })

  test.each([
    [{ limit: 0 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
    [{ limit: 101 }, 'body.limit', 'Expected integer to be less or equal to 100'],
    [{ cursor: 7 }, 'body.cursor', "Expected property 'cursor' to be string but found: 7"],
  ])('400 for %p', async (body, location, message) => {
    const res = await h.call('/v2/rootKeys.listRootKeys', body, root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('rootKeys.listRootKeys', location, message))
  })
})
