// The hot routes (src/http/hot-route.ts: keys.verifyKey, ratelimit.limit)
// against their Elysia routes: for every kind of request, the same status,
// content type and body (request ids aside), whether the hot route answers
// itself or hands the request on. And one log line per request, either way.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createApp, handler } from '../../src/app'
import type { RequestLogLine } from '../../src/http/request-context'
import { Harness } from '../support/harness'

let h: Harness
let root: string
let key: string
let creditKey: string
let apiId: string
let lines: RequestLogLine[]
let logged: ReturnType<typeof handler>

beforeEach(async () => {
  h = new Harness()
  root = await h.rootKey('acme')
  apiId = (await h.ok('apis.createApi', { name: 'main' }, root)).apiId
  key = (await h.ok('keys.createKey', { apiId, meta: { plan: 'pro' }, permissions: ['read'] }, root)).key
  creditKey = (await h.ok('keys.createKey', { apiId, credits: { remaining: 1 } }, root)).key
  lines = []
  logged = handler(createApp(h.services, { log: (line) => lines.push(line) }))
})
afterEach(() => h.close())

const post = (body: string, headers: Record<string, string>, rpc = 'keys.verifyKey') =>
  new Request(`http://localhost/v2/${rpc}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })

async function both(body: string, headers: Record<string, string>, rpc = 'keys.verifyKey') {
  const read = async (res: Response) => {
    const text = await res.text()
    const json = JSON.parse(text)
    const id = json.meta?.requestId
    expect(res.headers.get('x-request-id')).toBe(id)
    return { status: res.status, type: res.headers.get('content-type'), body: JSON.parse(text.replaceAll(id, 'req_x')) }
  }
  const fast = await read(await h.handle(post(body, headers, rpc)))
  const elysia = await read(await h.app.handle(post(body, headers, rpc)))
  return { fast, elysia }
}

describe('keys.verifyKey answered by its hot path and by its Elysia route', () => {
  const auth = () => ({ authorization: `Bearer ${root}` })
  const cases: [string, () => string, () => Record<string, string>, number][] = [
    ['a valid key', () => JSON.stringify({ key, permissions: 'read' }), auth, 200],
    ['an unknown key', () => JSON.stringify({ key: 'nope_123' }), auth, 200],
    ['a failed permission query', () => JSON.stringify({ key, permissions: 'write' }), auth, 200],
    ['a malformed permission query (400 from the verifier)', () => JSON.stringify({ key, permissions: 'read AND' }), auth, 400],
    ['no Authorization header', () => JSON.stringify({ key }), () => ({}), 401],
    ['a malformed Authorization header', () => JSON.stringify({ key }), () => ({ authorization: 'Basic abc' }), 401],
    ['an unknown root key', () => JSON.stringify({ key }), () => ({ authorization: 'Bearer unkey_nope' }), 401],
    ['a body that is not JSON', () => '{"key":', auth, 400],
    ['a body failing the schema', () => JSON.stringify({ key: '' }), auth, 400],
    ['an unknown field', () => JSON.stringify({ key, extra: 1 }), auth, 400],
    ['a __proto__ key', () => `{"key":"${key}","__proto__":{}}`, auth, 400],
  ]
  for (const [name, body, headers, status] of cases) {
    test(name, async () => {
      const { fast, elysia } = await both(body(), headers())
      expect(fast.status).toBe(status)
      expect(fast).toEqual(elysia)
    })
  }

  test('a root key without verify_key permission: 403 naming it', async () => {
    const reader = await h.rootKey('acme', ['api.*.read_api'])
    const { fast, elysia } = await both(JSON.stringify({ key }), { authorization: `Bearer ${reader}` })
    expect(fast.status).toBe(403)
    expect(fast.body.error.detail).toContain('api.*.verify_key')
    expect(fast).toEqual(elysia)
  })

  test('a key of another workspace is NOT_FOUND on both', async () => {
    const other = await h.rootKey('globex')
    const { fast, elysia } = await both(JSON.stringify({ key }), { authorization: `Bearer ${other}` })
    expect(fast.body.data).toEqual({ valid: false, code: 'NOT_FOUND' })
    expect(fast).toEqual(elysia)
  })

  test('credits are spent once per request, on either path', async () => {
    const first = (await (await h.handle(post(JSON.stringify({ key: creditKey }), auth()))).json()) as any
    const second = (await (await h.app.handle(post(JSON.stringify({ key: creditKey }), auth()))).json()) as any
    expect([first.data.code, first.data.credits]).toEqual(['VALID', 0])
    expect([second.data.code, second.data.credits]).toEqual(['USAGE_EXCEEDED', 0])
  })

  test('a body over the size limit is a 413 and closes the connection', async () => {
    const big = JSON.stringify({ key, tags: ['x'.repeat(h.services.tunables.maxBodyBytes)] })
    const res = await h.handle(post(big, { ...auth(), 'content-length': String(big.length) }))
    expect(res.status).toBe(413)
    expect(res.headers.get('connection')).toBe('close')
    expect(((await res.json()) as any).error.status).toBe(413)
  })

  test('one request log line per request, with its status and root key', async () => {
    const principal = h.services.rootKeys.authenticate(root) as { rootKeyId: string }
    const ok = await logged(post(JSON.stringify({ key }), auth()))
    const refused = await logged(post(JSON.stringify({ key: '' }), auth()))
    const anonymous = await logged(post(JSON.stringify({ key }), {}))
    await Promise.all([ok.text(), refused.text(), anonymous.text()])
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(lines.map((l) => [l.status, l.path, l.rootKeyId, l.requestId] as unknown[])).toEqual([
      [200, '/v2/keys.verifyKey', principal.rootKeyId, ok.headers.get('x-request-id')],
      [400, '/v2/keys.verifyKey', principal.rootKeyId, refused.headers.get('x-request-id')],
      [401, '/v2/keys.verifyKey', undefined, anonymous.headers.get('x-request-id')],
    ])
  })
})

describe('ratelimit.limit answered by its hot route and by its Elysia route', () => {
  const limit = (extra: Record<string, unknown> = {}) => JSON.stringify({ namespace: 'api', identifier: 'user_1', limit: 10, duration: 60_000, ...extra })

  test('decisions count once per request, whichever path answers', async () => {
    const auth = { authorization: `Bearer ${root}` }
    const seen: unknown[] = []
    for (let i = 0; i < 3; i++) {
      const { fast, elysia } = await both(limit({ limit: 4 }), auth, 'ratelimit.limit')
      expect([fast.status, elysia.status, fast.type]).toEqual([200, 200, elysia.type])
      seen.push([fast.body.data.success, fast.body.data.remaining], [elysia.body.data.success, elysia.body.data.remaining])
    }
    expect(seen).toEqual([
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
      [false, 0],
    ])
  })

  const cases: [string, () => string, () => Record<string, string>, number][] = [
    ['no Authorization header', () => limit(), () => ({}), 401],
    ['a body failing the schema', () => limit({ limit: -1 }), () => ({ authorization: `Bearer ${root}` }), 400],
    ['a missing field', () => JSON.stringify({ namespace: 'api', identifier: 'x' }), () => ({ authorization: `Bearer ${root}` }), 400],
  ]
  for (const [name, body, headers, status] of cases) {
    test(name, async () => {
      const { fast, elysia } = await both(body(), headers(), 'ratelimit.limit')
      expect(fast.status).toBe(status)
      expect(fast).toEqual(elysia)
    })
  }

  test('a new namespace without create_namespace: 403 naming it, on both', async () => {
    const limiter = await h.rootKey('acme', ['ratelimit.*.limit'])
    const { fast, elysia } = await both(limit({ namespace: 'fresh' }), { authorization: `Bearer ${limiter}` }, 'ratelimit.limit')
    expect(fast.status).toBe(403)
    expect(fast.body.error.detail).toContain('ratelimit.*.create_namespace')
    expect(fast).toEqual(elysia)
  })

  test('a namespace created by the hot route is audited with the root key as actor', async () => {
    const res = await h.handle(post(limit({ namespace: 'audited' }), { authorization: `Bearer ${root}` }, 'ratelimit.limit'))
    expect(res.status).toBe(200)
    const principal = h.services.rootKeys.authenticate(root) as { rootKeyId: string }
    const events = await h.ok('audit.listLogs', { events: ['ratelimit.create_namespace'] }, root)
    expect(events.map((e: any) => [e.actor, e.context?.requestId])).toEqual([
      [{ type: 'root_key', id: principal.rootKeyId, name: 'test *' }, res.headers.get('x-request-id')],
    ])
  })
})
