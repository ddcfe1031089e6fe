// Hostile bodies through the real app (src/http/body.ts, run by the permission
// macro of every RPC): deep nesting is refused before parsing and validation
// (it used to stall every client for seconds, or answer 500 from a stack
// overflow while building the validation message), a huge value of the
// wrong type is named without being echoed back, `__proto__` keys are
// refused on every route at any depth, and nothing here reaches a 500.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorBody, Harness } from '../support/harness'

let h: Harness
let root: string
let apiId: string
beforeAll(async () => {
  h = new Harness()
  root = await h.rootKey('ws')
  apiId = (await h.ok('apis.createApi', { name: 'hostile' }, root)).apiId
})
afterAll(() => h.close())

const deepArray = (levels: number, leaf = '"x"') => `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`
const deepObject = (levels: number, leaf = '1') => `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`
const tooDeep = errorBody(400, 'Bad Request', 'unkey/application/invalid_input', 'The request body is nested deeper than 64 levels.', [
  { location: 'body', message: 'is nested deeper than 64 levels' },
])

/** Sends `body` and returns the answer with how long it took. */
async function timed(path: string, body: string, key: string | null = root) {
  const started = performance.now()
  const res = await h.call(path, body, key)
  return { ...res, ms: performance.now() - started }
}

describe('deep nesting is a 400 before parsing, and costs nothing', () => {
  const cases: [string, string, (levels: number) => string][] = [
    ['an array in a typed field (keys.verifyKey tags)', '/v2/keys.verifyKey', (n) => `{"key":"sk_123","tags":${deepArray(n)}}`],
    ['an array in a string field (apis.createApi name)', '/v2/apis.createApi', (n) => `{"name":${deepArray(n)}}`],
    ['objects in a typed field (keys.createKey ratelimits)', '/v2/keys.createKey', (n) => `{"apiId":"API","ratelimits":[${deepObject(n)}]}`],
    ['objects in meta (keys.createKey)', '/v2/keys.createKey', (n) => `{"apiId":"API","meta":${deepObject(n)}}`],
    ['arrays in meta (identities.createIdentity)', '/v2/identities.createIdentity', (n) => `{"externalId":"deep","meta":{"a":${deepArray(n)}}}`],
    ['the body itself (ratelimit.multiLimit)', '/v2/ratelimit.multiLimit', (n) => deepArray(n, '{}')],
  ]

  for (const levels of [65, 10_000, 20_000]) {
    test.each(cases)(`${levels} levels: %s`, async (_, path, body) => {
      const res = await timed(path, body(levels).replace('API', apiId))
      expect(res.status).toBe(400)
      expect(res.body).toEqual(tooDeep)
      expect(res.ms).toBeLessThan(200)
    })
  }

  test('six 20,000-level bodies at once all answer 400 within a second', async () => {
    const started = performance.now()
    const answers = await Promise.all(cases.map(([, path, body]) => h.call(path, body(20_000).replace('API', apiId), root)))
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 400])
    expect(performance.now() - started).toBeLessThan(1000)
    expect(h.errors).toEqual([])
  })

  test('64 levels pass the depth check; the route then judges the body as before', async () => {
    // meta keeps its own, lower limit.
    const meta = await h.call('/v2/keys.createKey', `{"apiId":"${apiId}","meta":${deepObject(63)}}`, root)
    expect(meta.status).toBe(400)
    expect(meta.body.error.detail).toBe('Metadata is nested too deeply: at most 32 levels are allowed.')
    const tags = await h.call('/v2/keys.verifyKey', `{"key":"sk_123","tags":${deepArray(63)}}`, root)
    expect(tags.status).toBe(400)
    expect(tags.body.error.errors[0].location).toBe('body.tags[0]')
  })

  test('brackets and escaped quotes inside strings do not count', async () => {
    const name = `${'[{'.repeat(60)}\\"${'['.repeat(60)}`
    const res = await h.call('/v2/apis.createApi', `{"name":"${name}"}`, root)
    expect(res.status).toBe(200)
  })

  test('without a root key, a deep body is still a 401 (authentication comes first)', async () => {
    const res = await timed('/v2/keys.verifyKey', `{"key":"sk_123","tags":${deepArray(20_000)}}`, null)
    expect(res.status).toBe(401)
    expect(res.ms).toBeLessThan(200)
  })
})

describe('validation messages', () => {
  test('a huge value of the wrong type is named in a short message, not echoed back', async () => {
    const huge = JSON.stringify(Array.from({ length: 100_000 }, (_, i) => [i, '💥']))
    const res = await h.call('/v2/apis.createApi', `{"name":${huge}}`, root)
    expect(res.status).toBe(400)
    const [error] = res.body.error.errors
    expect(error.location).toBe('body.name')
    expect(error.message).toStartWith("Expected property 'name' to be string but found: 0,💥,1,💥")
    expect(error.message).toEndWith('…')
    expect(error.message.length).toBeLessThanOrEqual(201)
    expect(error.message.isWellFormed()).toBe(true)
    expect(JSON.stringify(res.body).length).toBeLessThan(1000)
  })
})

describe('__proto__ is refused on every route, at any depth', () => {
  const routes = () => h.app.routes.filter((r) => r.method === 'POST' && /^\/v[12]\//.test(r.path)).map((r) => r.path)
  const refused = (location: string) =>
    errorBody(400, 'Bad Request', 'unkey/application/invalid_input', `${location} is not allowed: '__proto__' cannot be used as a key.`, [
      { location, message: "'__proto__' is not allowed as a key" },
    ])

  test('as a top-level key', async () => {
    const paths = routes()
    expect(paths.length).toBeGreaterThan(60)
    for (const path of paths) {
      const res = await h.call(path, '{"__proto__":{"isAdmin":true}}', root)
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 400, body: refused('body.__proto__') })
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })

  test('inside meta, arrays and escaped spellings', async () => {
    const cases: [string, string, string][] = [
      ['/v2/keys.createKey', `{"apiId":"${apiId}","meta":{"plan":"pro","__proto__":{"admin":true}}}`, 'body.meta.__proto__'],
      ['/v2/identities.createIdentity', '{"externalId":"p","meta":{"a":[{"b":1},{"__proto__":null}]}}', 'body.meta.a[1].__proto__'],
      ['/v2/ratelimit.multiLimit', '[{"namespace":"n","identifier":"i","limit":1,"duration":1000,"__proto__":{}}]', 'body[0].__proto__'],
      ['/v2/apis.createApi', '{"name":"ok","\\u005f_proto__":{}}', 'body.__proto__'],
      ['/v2/apis.createApi', '{"name":"ok","\\u005f\\u005f\\u0070roto\\u005f\\u005f":{}}', 'body.__proto__'],
    ]
    for (const [path, body, location] of cases) {
      const res = await h.call(path, body, root)
      expect({ path, body: res.body }).toEqual({ path, body: refused(location) })
    }
  })

  test('as a value, or inside a longer key, it is ordinary text', async () => {
    expect((await h.call('/v2/apis.createApi', '{"name":"__proto__"}', root)).status).toBe(200)
    const key = await h.call('/v2/keys.createKey', `{"apiId":"${apiId}","meta":{"__proto__x":"__proto__","x__proto__":1}}`, root)
    expect(key.status).toBe(200)
  })

  test('lone surrogates are still a 400 naming the field, keys included', async () => {
    const res = await h.call('/v2/identities.createIdentity', '{"externalId":"s","meta":{"\\ud800":1}}', root)
    expect(res.status).toBe(400)
    expect(res.body.error.errors).toEqual([{ location: 'body.meta.\ud800', message: 'not well-formed Unicode text' }])
  })
})

describe('a body that is not an object is refused before any route sees it', () => {
  // Elysia copies a body onto the defaults of a route that has some, one element at a time: a
  // 600,000-character string sent to permissions.listPermissions held the request thread for 1.4 s.
  const notAnObject = errorBody(400, 'Bad Request', 'unkey/application/invalid_input', 'The request body must be a JSON object or array.', [
    { location: 'body', message: 'must be a JSON object or array' },
  ])

  test.each([
    ['a long string', JSON.stringify('💥'.repeat(300_000))],
    ['a number', '12'],
    ['true', 'true'],
    ['null', 'null'],
  ])('%s: 400 on every kind of route', async (_label, body) => {
    for (const path of ['/v2/permissions.listPermissions', '/v2/apis.createApi', '/v2/keys.verifyKey', '/v2/ratelimit.limit', '/v2/ratelimit.multiLimit']) {
      const res = await h.call(path, body, root)
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 400, body: notAnObject })
    }
  })

  test('an array of more than 1,000 items: 400; up to that, the route judges it as before', async () => {
    const long = `[${Array(300_000).fill(0).join(',')}]`
    const res = await h.call('/v2/permissions.listPermissions', long, root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(
      errorBody(400, 'Bad Request', 'unkey/application/invalid_input', 'The request body is an array of 300000 items; no RPC takes more than 1000.', [
        { location: 'body', message: 'more than 1000 items' },
      ]),
    )
    const limit = { namespace: 'api', identifier: 'u', limit: 5, duration: 60_000 }
    const many = await h.call(
      '/v2/ratelimit.multiLimit',
      Array.from({ length: 101 }, () => limit),
      root,
    )
    expect(many.body.error.errors).toEqual([{ location: 'body', message: 'Expected array length to be less or equal to 100' }])
    const one = await h.call('/v2/ratelimit.multiLimit', [limit], root)
    expect(one.status).toBe(200)
  })

  test('without a root key it is still a 401', async () => {
    expect((await h.call('/v2/permissions.listPermissions', '"x"', null)).status).toBe(401)
  })
})
