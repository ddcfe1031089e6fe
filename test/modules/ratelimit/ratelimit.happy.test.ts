import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Harness, REQUEST_ID } from '../../support/harness'

let h: Harness
let key: string
let now: number
beforeEach(async () => {
  h = new Harness()
  key = await h.rootKey('acme')
  now = h.clock.now() // the harness starts on a whole minute, so windows start now
})
afterEach(() => h.close())

const limitBody = (over: Record<string, unknown> = {}) => ({ namespace: 'email', identifier: 'user_1', limit: 3, duration: 60_000, ...over })
const limit = (over: Record<string, unknown> = {}) => h.ok('ratelimit.limit', limitBody(over), key)
const OVERRIDE_ID = expect.stringMatching(/^rlor_[1-9A-HJ-NP-Za-km-z]+$/)

describe('ratelimit.limit', () => {
  test('counts requests and answers with the exact envelope', async () => {
    const res = await h.call('/v2/ratelimit.limit', limitBody(), key)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('application/json')
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { limit: 3, remaining: 2, reset: now + 60_000, success: true } })
    expect('overrideId' in res.body.data).toBe(false)
    expect(await limit()).toEqual({ limit: 3, remaining: 1, reset: now + 60_000, success: true })
    expect(await limit()).toEqual({ limit: 3, remaining: 0, reset: now + 60_000, success: true })
    expect(await limit()).toEqual({ limit: 3, remaining: 0, reset: now + 60_000, success: false })
  })

  test('a refused request consumes nothing; the allowance returns as the window slides', async () => {
    await limit({ cost: 3 })
    expect((await limit()).success).toBe(false)
    h.clock.advance(60_000) // the previous window still counts in full
    expect(await limit({ cost: 0 })).toEqual({ limit: 3, remaining: 0, reset: now + 120_000, success: true })
    h.clock.advance(40_000) // a third of it is still covered: 1 used
    expect(await limit({ cost: 0 })).toEqual({ limit: 3, remaining: 2, reset: now + 120_000, success: true })
    h.clock.advance(80_000) // two windows later: everything is back
    expect((await limit({ cost: 0 })).remaining).toBe(3)
  })

  test('cost: a custom cost, 0 to read what is left, more than is left is refused', async () => {
    expect(await limit({ limit: 10, cost: 4 })).toEqual({ limit: 10, remaining: 6, reset: now + 60_000, success: true })
    expect(await limit({ limit: 10, cost: 0 })).toEqual({ limit: 10, remaining: 6, reset: now + 60_000, success: true })
    expect(await limit({ limit: 10, cost: 7 })).toEqual({ limit: 10, remaining: 6, reset: now + 60_000, success: false })
    expect(await limit({ limit: 10, cost: 6 })).toEqual({ limit: 10, remaining: 0, reset: now + 60_000, success: true })
  })

  test('counters are per identifier, per namespace and per duration', async () => {
    await limit({ cost: 3 })
    expect((await limit({ cost: 0 })).remaining).toBe(0)
    expect((await limit({ cost: 0, identifier: 'user_2' })).remaining).toBe(3)
    expect((await limit({ cost: 0, namespace: 'sms' })).remaining).toBe(3)
    expect((await limit({ cost: 0, duration: 30_000 })).remaining).toBe(3)
  })

  test('creates the namespace on first use; its id addresses the same counters as its name', async () => {
    expect(await h.services.ratelimit.findNamespace(await h.workspaceId('acme'), 'email')).toBeNull()
    await limit({ cost: 2 })
    const ns = (await h.services.ratelimit.findNamespace(await h.workspaceId('acme'), 'email'))!
    expect(ns.id).toMatch(/^rlns_/)
    expect(h.db.query('SELECT name FROM ratelimit_namespaces WHERE id = ?').get(ns.id)).toEqual({ name: 'email' })
    expect((await limit({ namespace: ns.id, cost: 0 })).remaining).toBe(1)
  })

  test('also answers under /v1', async () => {
    const res = await h.call('/v1/ratelimit.limit', limitBody(), key)
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({ limit: 3, remaining: 2, reset: now + 60_000, success: true })
    expect((await limit({ cost: 0 })).remaining).toBe(2)
  })

  test('counters are not written to SQLite', async () => {
    await limit({ limit: 100 }) // creates the namespace
    const before = h.db.query('SELECT total_changes() AS n').get()
    for (let i = 0; i < 5; i++) await limit({ limit: 100 })
    expect(h.db.query('SELECT total_changes() AS n').get()).toEqual(before as any)
  })
})

describe('ratelimit.multiLimit', () => {
  test('all pass: every check is counted and reported in order', async () => {
    const res = await h.call('/v2/ratelimit.multiLimit', [limitBody(), limitBody({ namespace: 'sms', identifier: 'user_2', limit: 5, cost: 2 })], key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {
        passed: true,
        limits: [
          { namespace: 'email', identifier: 'user_1', limit: 3, remaining: 2, reset: now + 60_000, passed: true },
          { namespace: 'sms', identifier: 'user_2', limit: 5, remaining: 3, reset: now + 60_000, passed: true },
        ],
      },
    })
    expect((await limit({ cost: 0 })).remaining).toBe(2)
  })

  test('one refused: nothing is counted, every outcome is still reported', async () => {
    await limit({ namespace: 'sms', cost: 3 })
    const data = await h.ok('ratelimit.multiLimit', [limitBody(), limitBody({ namespace: 'sms' }), limitBody({ identifier: 'user_3' })], key)
    expect(data).toEqual({
      passed: false,
      limits: [
        { namespace: 'email', identifier: 'user_1', limit: 3, remaining: 3, reset: now + 60_000, passed: true },
        { namespace: 'sms', identifier: 'user_1', limit: 3, remaining: 0, reset: now + 60_000, passed: false },
        { namespace: 'email', identifier: 'user_3', limit: 3, remaining: 3, reset: now + 60_000, passed: true },
      ],
    })
    expect((await limit({ cost: 0 })).remaining).toBe(3)
    expect((await limit({ identifier: 'user_3', cost: 0 })).remaining).toBe(3)
  })

  test('two checks on the same counter see each other', async () => {
    const data = await h.ok('ratelimit.multiLimit', [limitBody({ cost: 2 }), limitBody({ cost: 2 })], key)
    expect(data.passed).toBe(false)
    expect(data.limits.map((l: any) => l.passed)).toEqual([true, false])
    expect((await limit({ cost: 0 })).remaining).toBe(3)
  })

  test('reports the override that applied to each check', async () => {
    await limit({ cost: 0 })
    const { overrideId } = await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: 'vip_*', limit: 100, duration: 60_000 }, key)
    const data = await h.ok('ratelimit.multiLimit', [limitBody({ identifier: 'vip_1' }), limitBody({ identifier: 'user_1' })], key)
    expect(data.limits).toEqual([
      { namespace: 'email', identifier: 'vip_1', limit: 100, remaining: 99, reset: now + 60_000, passed: true, overrideId },
      { namespace: 'email', identifier: 'user_1', limit: 3, remaining: 2, reset: now + 60_000, passed: true },
    ])
  })

  test('accepts exactly 100 checks', async () => {
    const body = Array.from({ length: 100 }, (_, i) => limitBody({ identifier: `u${i}` }))
    const data = await h.ok('ratelimit.multiLimit', body, key)
    expect(data.passed).toBe(true)
    expect(data.limits).toHaveLength(100)
  })
})

describe('overrides', () => {
  const set = (identifier: string, limit: number, duration = 60_000) =>
    h.ok('ratelimit.setOverride', { namespace: 'email', identifier, limit, duration }, key).then((d) => d.overrideId as string)

  test('setOverride returns the override id; limit then applies the override and names it', async () => {
    await limit({ cost: 0 })
    const res = await h.call('/v2/ratelimit.setOverride', { namespace: 'email', identifier: 'user_1', limit: 10, duration: 1000 }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { overrideId: OVERRIDE_ID } })
    expect(await limit()).toEqual({ limit: 10, remaining: 9, reset: now + 1000, success: true, overrideId: res.body.data.overrideId })
  })

  test('setting the same identifier again updates it and keeps the id', async () => {
    await limit({ cost: 0 })
    const first = await set('user_1', 10)
    const second = await set('user_1', 20, 5000)
    expect(second).toBe(first)
    expect(await h.ok('ratelimit.getOverride', { namespace: 'email', identifier: 'user_1' }, key)).toEqual({
      overrideId: first,
      duration: 5000,
      identifier: 'user_1',
      limit: 20,
    })
    expect((await limit()).limit).toBe(20)
    expect(h.db.query('SELECT COUNT(*) AS n FROM ratelimit_overrides').get()).toEqual({ n: 1 })
  })

  test('a limit of 0 refuses every request', async () => {
    await limit({ cost: 0 })
    const id = await set('user_1', 0)
    expect(await limit()).toEqual({ limit: 0, remaining: 0, reset: now + 60_000, success: false, overrideId: id })
  })

  test('the namespace id works like its name', async () => {
    await limit({ cost: 0 })
    const nsId = (await h.services.ratelimit.findNamespace(await h.workspaceId('acme'), 'email'))!.id
    const { overrideId } = await h.ok('ratelimit.setOverride', { namespace: nsId, identifier: 'user_1', limit: 7, duration: 60_000 }, key)
    expect(await h.ok('ratelimit.getOverride', { namespace: 'email', identifier: 'user_1' }, key)).toMatchObject({ overrideId })
  })

  test('wildcards: exact first, then the most specific pattern; `*` spans any run of characters', async () => {
    await limit({ cost: 0 })
    const all = await set('*', 1)
    const users = await set('user_*', 2)
    const usersEu = await set('user_*_eu', 3)
    const exact = await set('user_7_eu', 4)
    const middle = await set('a*b*c', 5)
    const applied = async (identifier: string) => (await limit({ identifier, cost: 0 })).overrideId
    expect(await applied('user_7_eu')).toBe(exact)
    expect(await applied('user_8_eu')).toBe(usersEu)
    expect(await applied('user_8')).toBe(users)
    expect(await applied('user_')).toBe(users)
    expect(await applied('admin')).toBe(all)
    expect(await applied('a-x-b-y-c')).toBe(middle)
    expect(await applied('abc')).toBe(middle)
    expect(await applied('acb')).toBe(all)
    for (const [identifier, id] of [
      ['user_8_eu', usersEu],
      ['user_8', users],
      ['admin', all],
      ['user_7_eu', exact],
    ] as const) {
      expect((await h.ok('ratelimit.getOverride', { namespace: 'email', identifier }, key)).overrideId).toBe(id)
    }
  })

  test('pattern characters other than `*` are literal', async () => {
    await limit({ cost: 0 })
    const id = await set('1.2.3.*', 1)
    await set('(a|b)+?*', 2)
    expect((await limit({ identifier: '1.2.3.4', cost: 0 })).overrideId).toBe(id)
    expect('overrideId' in (await limit({ identifier: '1x2x3x4', cost: 0 }))).toBe(false)
    expect('overrideId' in (await limit({ identifier: 'a', cost: 0 }))).toBe(false)
    expect((await limit({ identifier: '(a|b)+?z', cost: 0 })).limit).toBe(2)
  })

  test('an identifier that is itself a pattern is matched exactly first', async () => {
    await limit({ cost: 0 })
    const broad = await set('user_*', 1)
    const literal = await set('user_*x', 2)
    expect((await limit({ identifier: 'user_*x', cost: 0 })).overrideId).toBe(literal)
    expect((await limit({ identifier: 'user_*', cost: 0 })).overrideId).toBe(broad)
  })

  test('deleteOverride removes exactly the named override; limits fall back', async () => {
    await limit({ cost: 0 })
    const broad = await set('user_*', 9)
    await set('user_1', 5)
    const res = await h.call('/v2/ratelimit.deleteOverride', { namespace: 'email', identifier: 'user_1' }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect((await limit()).overrideId).toBe(broad)
    await h.ok('ratelimit.deleteOverride', { namespace: 'email', identifier: 'user_*' }, key)
    expect(await limit()).toEqual({ limit: 3, remaining: 1, reset: now + 60_000, success: true })
  })

  test('limit reads overrides from memory, not from SQLite', async () => {
    await limit({ cost: 0 })
    const id = await set('user_1', 50)
    expect((await limit()).overrideId).toBe(id)
    h.db.exec('DELETE FROM ratelimit_overrides') // behind the service's back
    expect((await limit()).overrideId).toBe(id)
  })

  test('getOverride returns the stored fields', async () => {
    await limit({ cost: 0 })
    const id = await set('user_*', 12, 2000)
    const res = await h.call('/v2/ratelimit.getOverride', { namespace: 'email', identifier: 'user_1' }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { overrideId: id, duration: 2000, identifier: 'user_*', limit: 12 } })
  })
})

describe('ratelimit.listOverrides', () => {
  test('pages in id order, 10 by default; the last page has no cursor', async () => {
    await limit({ cost: 0 })
    const ids: string[] = []
    for (let i = 0; i < 23; i++) {
      ids.push((await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: `u${i}`, limit: i, duration: 1000 + i }, key)).overrideId)
    }
    ids.sort()
    const pages: any[] = []
    let cursor: string | undefined
    do {
      const res = await h.call('/v2/ratelimit.listOverrides', { namespace: 'email', ...(cursor ? { cursor } : {}) }, key)
      expect(res.status).toBe(200)
      pages.push(res.body)
      cursor = res.body.pagination.cursor
    } while (cursor)
    expect(pages.map((p) => p.data.length)).toEqual([10, 10, 3])
    expect(pages.map((p) => p.pagination.hasMore)).toEqual([true, true, false])
    expect(pages[2].pagination).toEqual({ hasMore: false })
    expect(pages[0].meta).toEqual({ requestId: REQUEST_ID })
    expect(pages.flatMap((p) => p.data.map((o: any) => o.overrideId))).toEqual(ids)
    const first = pages[0].data[0]
    const i = Number(first.identifier.slice(1))
    expect(first).toEqual({ overrideId: ids[0], duration: 1000 + i, identifier: `u${i}`, limit: i })
    expect(pages[0].pagination.cursor).toBe(ids[10])
  })

  test('limit sets the page size; an empty namespace is an empty page', async () => {
    await limit({ cost: 0 })
    const empty = await h.call('/v2/ratelimit.listOverrides', { namespace: 'email' }, key)
    expect(empty.body).toEqual({ meta: { requestId: REQUEST_ID }, data: [], pagination: { hasMore: false } })
    for (let i = 0; i < 3; i++) await h.ok('ratelimit.setOverride', { namespace: 'email', identifier: `u${i}`, limit: 1, duration: 1000 }, key)
    const res = await h.call('/v2/ratelimit.listOverrides', { namespace: 'email', limit: 2 }, key)
    expect(res.body.data).toHaveLength(2)
    expect(res.body.pagination.hasMore).toBe(true)
    const all = await h.call('/v2/ratelimit.listOverrides', { namespace: 'email', limit: 100 }, key)
    expect(all.body.data).toHaveLength(3)
    expect(all.body.pagination).toEqual({ hasMore: false })
  })
})
