import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { assertRoutesProtected } from '../../src/http/auth'
import { errorHandler } from '../../src/http/error-handler'
import { errorBody, Harness, REQUEST_ID } from '../support/harness'

let h: Harness
beforeEach(() => (h = new Harness()))
afterEach(() => h.close())

describe('liveness', () => {
  test.each(['/v2/liveness', '/v1/liveness'])('GET %s answers without a key', async (path) => {
    const res = await h.app.handle(new Request(`http://localhost${path}`))
    expect(res.status).toBe(200)
    const body: any = await res.json()
    expect(body).toEqual({ meta: { requestId: REQUEST_ID }, data: { message: "we're cooking" } })
    expect(res.headers.get('x-request-id')).toBe(body.meta.requestId)
  })
})

describe('envelope', () => {
  test('unknown routes are a 404 in the envelope, with the request id header', async () => {
    const res = await h.call('/v2/keys.doesNotExist', {}, await h.rootKey('ws'))
    expect(res.status).toBe(404)
    expect(res.body).toEqual(errorBody(404, 'Not Found', 'unkey/data/route_not_found', 'There is no route POST /v2/keys.doesNotExist.'))
    expect(res.headers.get('x-request-id')).toBe(res.body.meta.requestId)
  })

  test('every request gets a distinct request id', async () => {
    const key = await h.rootKey('ws')
    const a = await h.call('/v2/apis.createApi', { name: 'one' }, key)
    const b = await h.call('/v2/apis.createApi', { name: 'two' }, key)
    expect(a.body.meta.requestId).not.toBe(b.body.meta.requestId)
  })

  test('unexpected exceptions become a 500 that leaks nothing', async () => {
    const key = await h.rootKey('ws')
    h.services.apis.create = () => {
      throw new Error('SQLITE_CORRUPT: secret internal detail at /srv/db')
    }
    const res = await h.call('/v2/apis.createApi', { name: 'boom' }, key)
    expect(res.status).toBe(500)
    expect(res.body).toEqual(
      errorBody(
        500,
        'Internal Server Error',
        'unkey/application/unexpected_error',
        'Something unexpected went wrong. The error has been logged with this request id.',
      ),
    )
    expect(JSON.stringify(res.body)).not.toContain('SQLITE')
    expect(h.errors).toHaveLength(1)
  })

  test('a request body over the size limit is a 413 in the envelope', async () => {
    const res = await h.call('/v2/apis.createApi', { name: 'x'.repeat(3 * 1024 * 1024) }, await h.rootKey('ws'))
    expect(res.status).toBe(413)
    expect(res.body.error.type).toBe('https://unkey.com/docs/errors/user/bad_request/request_body_too_large')
  })

  test('errors are application/problem+json when the client asks only for that', async () => {
    const res = await h.call('/v2/apis.getApi', { apiId: 'api_missing1' }, await h.rootKey('ws'), { accept: 'application/problem+json' })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
  })

  test('an empty or non-JSON body without a key is a 401, not a 400', async () => {
    expect((await h.call('/v2/apis.createApi', '', null)).status).toBe(401)
    expect((await h.call('/v2/apis.createApi', 'not json', 'unkey_unknown1234567')).status).toBe(401)
  })

  test('strings with lone surrogates are a 400 naming the field', async () => {
    const res = await h.call('/v2/ratelimit.limit', '{"namespace":"\\ud800","identifier":"x","limit":5,"duration":1000}', await h.rootKey('ws'))
    expect(res.status).toBe(400)
    expect(res.body.error.errors).toEqual([{ location: 'body.namespace', message: 'not well-formed Unicode text' }])
  })

  test('a response that breaks its own schema is a 500 (our fault), not a 400', async () => {
    const errors: unknown[] = []
    const app = new Elysia({ normalize: false })
      .use(
        errorHandler(
          (_, e) => errors.push(e),
          async () => {},
        ),
      )
      .get('/broken', () => ({ n: 'not a number' }) as never, { response: { 200: t.Object({ n: t.Number() }) } })
    const res = await app.handle(new Request('http://localhost/broken'))
    expect(res.status).toBe(500)
    expect(errors).toHaveLength(1)
  })
})

describe('fail closed', () => {
  test('the app refuses to start with an API route that has no permission macro', () => {
    const rogue = new Elysia().post('/v2/apis.leak', () => 'data', { body: t.Object({}) })
    expect(() => assertRoutesProtected(rogue.routes)).toThrow('Routes without a permission check: POST /v2/apis.leak')
  })

  test('every API route of the real app declares its permission', () => {
    expect(() => assertRoutesProtected(h.app.routes)).not.toThrow()
    const api = h.app.routes.filter((r) => /^\/v\d\//.test(r.path) && !r.path.endsWith('/liveness'))
    expect(api.length).toBeGreaterThan(0)
    for (const r of api) expect((r.hooks as any).detail['x-required-permissions']).toBeString()
  })
})
