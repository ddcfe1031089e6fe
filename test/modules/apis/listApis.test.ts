// apis.listApis: the workspace's live APIs page by page; a root key with
// per-API read grants sees those APIs alone.
import { describe, expect, test } from 'bun:test'
import { type Harness, invalidBody, REQUEST_ID, withHarness } from '../../support/harness'

let h: Harness
let root: string
withHarness((f) => {
  ;({ h, root } = f)
})

const createApi = async (name: string): Promise<string> => (await h.ok('apis.createApi', { name }, root)).apiId

describe('apis.listApis', () => {
  test('lists the live APIs in id order with their protection and creation time', async () => {
    const a = await createApi('payments')
    const b = await createApi('billing')
    const gone = await createApi('legacy')
    await h.ok('apis.deleteApi', { apiId: gone }, root)
    await h.ok('apis.updateApi', { apiId: b, deleteProtection: true }, root)
    const res = await h.call('/v2/apis.listApis', {}, root)
    expect(res.status).toBe(200)
    const item = (id: string, name: string, deleteProtection: boolean) => ({ id, name, deleteProtection, createdAt: h.clock.now() })
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: [item(a, 'payments', false), item(b, 'billing', true)].sort((x, y) => (x.id < y.id ? -1 : 1)),
      pagination: { hasMore: false },
    })
  })

  test('pages with limit and cursor, each API once', async () => {
    const ids = [await createApi('one'), await createApi('two'), await createApi('three')].sort()
    const first = await h.call('/v2/apis.listApis', { limit: 2 }, root)
    expect(first.body.data.map((a: any) => a.id)).toEqual(ids.slice(0, 2))
    expect(first.body.pagination).toEqual({ cursor: ids[2], hasMore: true })
    const second = await h.call('/v2/apis.listApis', { limit: 2, cursor: first.body.pagination.cursor }, root)
    expect(second.body.data.map((a: any) => a.id)).toEqual(ids.slice(2))
    expect(second.body.pagination).toEqual({ hasMore: false })
  })

  test('a key with per-API read grants lists those APIs only, whatever the cursor', async () => {
    const a = await createApi('payments')
    await createApi('billing')
    const c = await createApi('search')
    const reader = await h.rootKey('ws', [`api.${a}.read_api`, `api.${c}.read_api`, 'api.api_gone.read_api'])
    expect((await h.ok('apis.listApis', {}, reader)).map((x: any) => x.id)).toEqual([a, c].sort())
    expect((await h.ok('apis.listApis', { cursor: '' }, reader)).map((x: any) => x.id)).toEqual([a, c].sort())
  })

  test('never lists another workspace’s APIs', async () => {
    await createApi('payments')
    const other = await h.rootKey('other-ws')
    expect(await h.ok('apis.listApis', {}, other)).toEqual([])
    const foreign = (await h.ok('apis.createApi', { name: 'theirs' }, other)).apiId
    const scoped = await h.rootKey('ws', [`api.${foreign}.read_api`])
    expect(await h.ok('apis.listApis', {}, scoped)).toEqual([])
  })

  test.each([
    [{ limit: 0 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
    [{ limit: 101 }, 'body.limit', 'Expected integer to be less or equal to 100'],
    [{ search: 'x' }, 'body.search', "Property 'search' should not be provided"],
  ])('400 for %p', async (body, location, message) => {
    const res = await h.call('/v2/apis.listApis', body, root)
    expect(res.body).toEqual(invalidBody('apis.listApis', location, message))
  })
})
