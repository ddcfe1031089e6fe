import { describe, expect, test } from 'bun:test'
import { type Harness, IDENTITY_ID, RATELIMIT_ID, REQUEST_ID, withHarness } from '../../support/harness'
import { issueKey, verifiedIdentity } from '../../support/keys'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

const perMinute = (name: string, limit = 10, autoApply = false) => ({ name, limit, duration: 60_000, autoApply })

describe('identities.createIdentity / getIdentity', () => {
  test('creates an identity with meta and ratelimits; it can be read by id and by externalId', async () => {
    const res = await h.call(
      '/v2/identities.createIdentity',
      { externalId: 'user_123', meta: { plan: 'pro', seats: 3 }, ratelimits: [perMinute('requests', 100, true), perMinute('tokens', 5000)] },
      key,
    )
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { identityId: IDENTITY_ID } })
    const id = res.body.data.identityId
    const expected = {
      id,
      externalId: 'user_123',
      meta: { plan: 'pro', seats: 3 },
      ratelimits: [
        { id: RATELIMIT_ID, name: 'requests', limit: 100, duration: 60_000, autoApply: true },
        { id: RATELIMIT_ID, name: 'tokens', limit: 5000, duration: 60_000, autoApply: false },
      ],
    }
    for (const identity of [id, 'user_123']) {
      const got = await h.call('/v2/identities.getIdentity', { identity }, key)
      expect(got.status).toBe(200)
      expect(got.body).toEqual({ meta: { requestId: REQUEST_ID }, data: expected })
    }
  })

  test('without meta or ratelimits both are left out (never null)', async () => {
    const { identityId } = await h.ok('identities.createIdentity', { externalId: 'org.acme-1' }, key)
    expect(await h.ok('identities.getIdentity', { identity: identityId }, key)).toEqual({ id: identityId, externalId: 'org.acme-1' })
  })

  test('autoApply defaults to false', async () => {
    await h.ok('identities.createIdentity', { externalId: 'u', ratelimits: [{ name: 'requests', limit: 1, duration: 1000 }] }, key)
    expect((await h.ok('identities.getIdentity', { identity: 'u' }, key)).ratelimits[0].autoApply).toBe(false)
  })

  test('meta of almost 1 MB is accepted', async () => {
    const meta = { blob: 'x'.repeat(1024 * 1024 - 20) }
    const { identityId } = await h.ok('identities.createIdentity', { externalId: 'big', meta }, key)
    expect((await h.ok('identities.getIdentity', { identity: identityId }, key)).meta).toEqual(meta)
  })

  test('also answers under /v1', async () => {
    const res = await h.call('/v1/identities.createIdentity', { externalId: 'u1' }, key)
    expect(res.status).toBe(200)
    expect((await h.call('/v1/identities.getIdentity', { identity: 'u1' }, key)).body.data.id).toBe(res.body.data.identityId)
  })
})

describe('identities.listIdentities', () => {
  test('an empty workspace lists nothing, with hasMore false and no cursor', async () => {
    const res = await h.call('/v2/identities.listIdentities', {}, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: [], pagination: { hasMore: false } })
  })

  test('pages in id order with meta and ratelimits; the last page has no cursor', async () => {
    const ids: string[] = []
    for (const externalId of ['a', 'b', 'c', 'd', 'e']) {
      ids.push((await h.ok('identities.createIdentity', { externalId, meta: { n: externalId }, ratelimits: [perMinute('requests')] }, key)).identityId)
    }
    const seen: any[] = []
    let cursor: string | undefined
    const hasMore: boolean[] = []
    do {
      const res = await h.call('/v2/identities.listIdentities', { limit: 2, ...(cursor ? { cursor } : {}) }, key)
      expect(res.status).toBe(200)
      seen.push(...res.body.data)
      hasMore.push(res.body.pagination.hasMore)
      cursor = res.body.pagination.cursor
      expect(res.body.pagination.hasMore).toBe(cursor !== undefined)
    } while (cursor)
    expect(hasMore).toEqual([true, true, false])
    expect(seen.map((i) => i.id)).toEqual([...ids].sort())
    expect(seen.find((i) => i.externalId === 'c')).toEqual({
      id: expect.any(String),
      externalId: 'c',
      meta: { n: 'c' },
      ratelimits: [{ id: RATELIMIT_ID, name: 'requests', limit: 10, duration: 60_000, autoApply: false }],
    })
  })

  test('search matches externalId or id, case-insensitively; deleted identities are not listed', async () => {
    await h.ok('identities.createIdentity', { externalId: 'Customer-A' }, key)
    await h.ok('identities.createIdentity', { externalId: 'customer-b' }, key)
    const { identityId } = await h.ok('identities.createIdentity', { externalId: 'vendor' }, key)
    const found = async (search: string) => (await h.ok('identities.listIdentities', { search }, key)).map((i: any) => i.externalId).sort()
    expect(await found('CUSTOMER')).toEqual(['Customer-A', 'customer-b'])
    expect(await found(identityId.slice(3).toLowerCase())).toEqual(['vendor'])
    expect(await found('%')).toEqual([])
    await h.ok('identities.deleteIdentity', { identity: 'customer-b' }, key)
    expect(await found('customer')).toEqual(['Customer-A'])
  })
})

describe('identities.updateIdentity', () => {
  test('replaces meta; ratelimits are replaced by name, keeping the id of names that stay', async () => {
    const { identityId } = await h.ok(
      'identities.createIdentity',
      { externalId: 'u', meta: { plan: 'free', old: true }, ratelimits: [perMinute('requests', 10), perMinute('tokens', 100)] },
      key,
    )
    const before = await h.ok('identities.getIdentity', { identity: identityId }, key)
    const requestsId = before.ratelimits.find((r: any) => r.name === 'requests').id

    const res = await h.call(
      '/v2/identities.updateIdentity',
      { identity: 'u', meta: { plan: 'pro' }, ratelimits: [perMinute('requests', 50, true), perMinute('uploads', 3)] },
      key,
    )
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {
        id: identityId,
        externalId: 'u',
        meta: { plan: 'pro' },
        ratelimits: [
          { id: requestsId, name: 'requests', limit: 50, duration: 60_000, autoApply: true },
          { id: RATELIMIT_ID, name: 'uploads', limit: 3, duration: 60_000, autoApply: false },
        ],
      },
    })
    expect(await h.ok('identities.getIdentity', { identity: identityId }, key)).toEqual(res.body.data)
  })

  test('fields left out stay; an empty ratelimit list removes them all', async () => {
    await h.ok('identities.createIdentity', { externalId: 'u', meta: { a: 1 }, ratelimits: [perMinute('requests')] }, key)
    const unchanged = await h.ok('identities.updateIdentity', { identity: 'u' }, key)
    expect(unchanged.meta).toEqual({ a: 1 })
    expect(unchanged.ratelimits).toHaveLength(1)
    expect(await h.ok('identities.updateIdentity', { identity: 'u', ratelimits: [] }, key)).toEqual({
      id: IDENTITY_ID,
      externalId: 'u',
      meta: { a: 1 },
    })
  })

  test('keys linked to the identity verify with the new meta and ratelimits at once', async () => {
    const k = await issueKey(h, 'acme', { externalId: 'user_1' })
    expect(await verifiedIdentity(h, k.key)).toMatchObject({ externalId: 'user_1', meta: null, ratelimits: [] })
    await h.ok('identities.updateIdentity', { identity: 'user_1', meta: { tier: 'gold' }, ratelimits: [perMinute('requests', 7)] }, key)
    expect(await verifiedIdentity(h, k.key)).toMatchObject({
      externalId: 'user_1',
      meta: { tier: 'gold' },
      ratelimits: [{ name: 'requests', limit: 7, duration: 60_000, autoApply: false }],
    })
  })
})

describe('identities.deleteIdentity', () => {
  test('answers with meta only; the identity is gone afterwards', async () => {
    const { identityId } = await h.ok('identities.createIdentity', { externalId: 'u' }, key)
    const res = await h.call('/v2/identities.deleteIdentity', { identity: identityId }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID } })
    expect(res.headers.get('content-type')).toStartWith('application/json')
    expect((await h.call('/v2/identities.getIdentity', { identity: identityId }, key)).status).toBe(404)
    expect((await h.call('/v2/identities.getIdentity', { identity: 'u' }, key)).status).toBe(404)
  })

  test('the externalId can be used again; the new identity starts empty', async () => {
    const first = (await h.ok('identities.createIdentity', { externalId: 'u', meta: { v: 1 }, ratelimits: [perMinute('requests')] }, key)).identityId
    await h.ok('identities.deleteIdentity', { identity: 'u' }, key)
    const second = (await h.ok('identities.createIdentity', { externalId: 'u' }, key)).identityId
    expect(second).not.toBe(first)
    expect(await h.ok('identities.getIdentity', { identity: 'u' }, key)).toEqual({ id: second, externalId: 'u' })
    // And again: several deleted twins may exist.
    await h.ok('identities.deleteIdentity', { identity: 'u' }, key)
    expect((await h.call('/v2/identities.createIdentity', { externalId: 'u' }, key)).status).toBe(200)
  })

  test('linked keys lose the link at once and keep verifying; their identity ratelimits go', async () => {
    const k = await issueKey(h, 'acme', { externalId: 'user_1' })
    const { id } = await h.ok('identities.getIdentity', { identity: 'user_1' }, key)
    await h.ok('identities.updateIdentity', { identity: id, ratelimits: [perMinute('requests')] }, key)
    expect((await verifiedIdentity(h, k.key))?.id).toBe(id)

    await h.ok('identities.deleteIdentity', { identity: 'user_1' }, key)
    expect(await verifiedIdentity(h, k.key)).toBeNull()
    expect(h.db.query('SELECT identity_id FROM keys WHERE id = ?').get(k.keyId)).toEqual({ identity_id: null })
    expect(h.db.query('SELECT COUNT(*) AS n FROM ratelimits WHERE identity_id = ?').get(id)).toEqual({ n: 0 })
    expect((await h.ok('keys.getKey', { keyId: k.keyId }, key)).identity).toBeUndefined()
  })
})

describe('workspaces are isolated', () => {
  test('the same externalId may exist in two workspaces; each sees only its own', async () => {
    const other = await h.rootKey('other')
    const mine = (await h.ok('identities.createIdentity', { externalId: 'u', meta: { who: 'me' } }, key)).identityId
    const theirs = (await h.ok('identities.createIdentity', { externalId: 'u', meta: { who: 'them' } }, other)).identityId
    expect(mine).not.toBe(theirs)
    expect((await h.ok('identities.getIdentity', { identity: 'u' }, other)).meta).toEqual({ who: 'them' })
    expect((await h.ok('identities.listIdentities', {}, key)).map((i: any) => i.id)).toEqual([mine])
    for (const rpc of ['identities.getIdentity', 'identities.updateIdentity', 'identities.deleteIdentity']) {
      expect((await h.call(`/v2/${rpc}`, { identity: mine }, other)).status).toBe(404)
    }
    expect((await h.ok('identities.getIdentity', { identity: mine }, key)).meta).toEqual({ who: 'me' })
  })
})
