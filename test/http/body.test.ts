// src/http/body.ts over real sockets: the bytes actually received are counted
// (chunked bodies too), a body that trickles in is cut off with 408, a request
// without a valid root key is answered 401 before its body is read, and the
// connection is closed after each of those answers unless the unread body is
// small (the runtime skips it, and the connection serves the next request). The real app serves most
// cases; a small app built from the same plugins (auth, error handler, request
// context) with short limits serves the timeouts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia, t } from 'elysia'
import { DEFAULT_TUNABLES, loadConfig } from '../../src/config'
import { authPlugin } from '../../src/http/auth'
import { errorHandler } from '../../src/http/error-handler'
import { ok, requestContext } from '../../src/http/request-context'
import { wildcardPermission } from '../../src/rbac/requirements'
import { startServer } from '../../src/server'
import { Harness, REQUEST_ID, TEST_LISTEN } from '../support/harness'
import { chunk, head, rawExchange, rawRequest } from '../support/raw-http'
import { runtime } from '#runtime'
import type { Listener } from '../../src/runtime/runtime'

const SHORT = { ...DEFAULT_TUNABLES, bodyTimeoutMs: 300 }

let h: Harness
let root: string
/** The real app, on a socket. */
let real: Listener
/** The same plugins with a 300 ms body deadline. */
let short: Listener

beforeAll(async () => {
  h = new Harness()
  root = await h.rootKey('ws')
  // latch's own listener (src/runtime/), as the server uses it.
  real = runtime.listen(h.app, TEST_LISTEN)
  const app = new Elysia({ normalize: false })
    .use(requestContext(null))
    .use(
      errorHandler(
        () => {},
        async () => {},
      ),
    )
    .use(
      new Elysia().use(authPlugin(h.services.rootKeys, SHORT)).post('/v2/echo', ({ body, request }) => ok(request, body), {
        permission: wildcardPermission('api', 'create_api'),
        body: t.Object({ name: t.String() }),
      }),
    )
  short = runtime.listen(app, TEST_LISTEN)
})
afterAll(async () => {
  await real.stop()
  await short.stop()
  await h.close()
})

const bearer = () => ({ authorization: `Bearer ${root}` })
const envelope = (status: number, type: string) => ({
  meta: { requestId: REQUEST_ID },
  error: expect.objectContaining({ status, type: `https://unkey.com/docs/errors/${type}` }),
})

describe('size: the bytes received count, not what the client declares', () => {
  test('a chunked body over maxBodyBytes is a 413 in the envelope, and the connection is closed', async () => {
    const piece = 'x'.repeat(64 * 1024)
    const parts = [chunk('{"name":"'), ...Array.from({ length: 48 }, () => chunk(piece)), chunk('"}'), chunk('')]
    const res = await rawRequest(real.port!, head('/v2/apis.createApi', { ...bearer(), 'transfer-encoding': 'chunked' }), parts, { closeOnAnswer: false })
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toEqual(envelope(413, 'user/bad_request/request_body_too_large'))
    expect(res.headers.connection).toBe('close')
    expect(res.serverClosed).toBe(true)
    expect(h.db.query('SELECT COUNT(*) AS n FROM apis WHERE length(name) > 1000').get()).toEqual({ n: 0 })
  })

  test('a chunked body under the limit is read in full', async () => {
    const parts = [chunk('{"na'), chunk('me":"chunked'), chunk(' api"}'), chunk('')]
    const res = await rawRequest(real.port!, head('/v2/apis.createApi', { ...bearer(), 'transfer-encoding': 'chunked' }), parts, { gapMs: 5 })
    expect(res.status).toBe(200)
  })

  test('a declared Content-Length over the limit is a 413 before a byte of the body is sent', async () => {
    const res = await rawRequest(real.port!, head('/v2/apis.createApi', { ...bearer(), 'content-length': String(DEFAULT_TUNABLES.maxBodyBytes + 1) }), [], {
      closeOnAnswer: false,
      timeoutMs: 3000,
    })
    expect(res.status).toBe(413)
    expect(res.serverClosed).toBe(true)
  })
})

/** A request head whose Content-Length comes twice with the same value, which Bun lets through (read as "N, N"). */
const repeatedLength = (path: string, length: number, headers: Record<string, string>) =>
  head(path, headers).replace('\r\n\r\n', `\r\ncontent-length: ${length}\r\ncontent-length: ${length}\r\n\r\n`)

describe('a Content-Length given twice is not taken at its word', () => {
  test('over the limit: 413 once the bytes received pass it, not a wait for the whole declared body', async () => {
    const piece = 'x'.repeat(100 * 1024)
    // 2.2 MB of a declared 3 MB, then nothing: a reader that trusts the declared length waits (408 after 10 s).
    const parts = ['{"name":"', ...Array.from({ length: 22 }, () => piece)]
    const res = await rawRequest(real.port!, repeatedLength('/v2/apis.createApi', 3_000_000, bearer()), parts, {
      gapMs: 5,
      closeOnAnswer: false,
      timeoutMs: 5000,
    })
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toEqual(envelope(413, 'user/bad_request/request_body_too_large'))
    expect(res.headers.connection).toBe('close')
    expect(res.serverClosed).toBe(true)
  })

  test('under the limit, with a valid key: read and counted like any body', async () => {
    const body = '{"name":"twice declared"}'
    const res = await rawRequest(real.port!, repeatedLength('/v2/apis.createApi', body.length, bearer()), [body])
    expect(res.status).toBe(200)
  })

  test('refused (401): the body is not left to the server to skip, the connection is closed', async () => {
    const body = '{"name":"never read"}'
    const res = await rawRequest(real.port!, repeatedLength('/v2/apis.createApi', body.length, {}), [body], { closeOnAnswer: false, timeoutMs: 3000 })
    expect(res.status).toBe(401)
    expect(res.headers.connection).toBe('close')
    expect(res.serverClosed).toBe(true)
  })
})

describe('slow bodies', () => {
  const trickle = (body: string) => body.split('')

  test('headers, then one byte at a time with a valid key: 408 in the envelope after bodyTimeoutMs, connection closed', async () => {
    const res = await rawRequest(
      short.port!,
      head('/v2/echo', { ...bearer(), 'content-length': '40' }),
      trickle('{"name":"a slow body, one byte at a time"}'),
      {
        gapMs: 100,
        closeOnAnswer: false,
        timeoutMs: 5000,
      },
    )
    expect(res.status).toBe(408)
    expect(JSON.parse(res.body)).toEqual({
      meta: { requestId: REQUEST_ID },
      error: {
        title: 'Request Timeout',
        detail: 'The request body did not arrive within 300 ms.',
        status: 408,
        type: 'https://unkey.com/docs/errors/user/bad_request/request_timeout',
      },
    })
    expect(res.respondedMs).toBeGreaterThanOrEqual(250)
    expect(res.respondedMs).toBeLessThan(2000)
    expect(res.serverClosed).toBe(true)
  })

  test('a chunked body that trickles in is cut off the same way', async () => {
    const parts = trickle('{"name":"slow and chunked"}').map((c) => chunk(c))
    const res = await rawRequest(short.port!, head('/v2/echo', { ...bearer(), 'transfer-encoding': 'chunked' }), parts, {
      gapMs: 100,
      closeOnAnswer: false,
      timeoutMs: 5000,
    })
    expect(res.status).toBe(408)
    expect(res.respondedMs).toBeLessThan(2000)
    expect(res.serverClosed).toBe(true)
  })

  test('a declared body that never comes is a 408', async () => {
    const res = await rawRequest(short.port!, head('/v2/echo', { ...bearer(), 'content-length': '100' }), [], { closeOnAnswer: false, timeoutMs: 5000 })
    expect(res.status).toBe(408)
    expect(res.serverClosed).toBe(true)
  })

  test('a body that arrives in time, in pieces, is read', async () => {
    const res = await rawRequest(short.port!, head('/v2/echo', { ...bearer(), 'content-length': '16' }), ['{"name":', '"quick"}'], { gapMs: 20 })
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body).data).toEqual({ name: 'quick' })
  })
})

describe('no valid root key: 401 at once, the body is never read', () => {
  test.each([
    ['no Authorization header', {}, "The Authorization header is missing. Send your root key as 'Authorization: Bearer <root key>'."],
    ['a malformed header', { authorization: 'Basic abc' }, "The Authorization header is malformed. It must have the form 'Bearer <root key>'."],
    ['an unknown key', { authorization: 'Bearer unkey_doesnotexist' }, 'The provided root key is invalid or has been revoked'],
  ])('%s', async (_, headers, detail) => {
    // Served by the real app (10 s body deadline): the answer must not wait for the body. The
    // runtime skips the small body as it trickles in, and the connection then serves the next request.
    const body = '{"name":"never read"}'
    const res = await rawExchange(real.port!, head('/v2/apis.createApi', { ...headers, 'content-length': String(body.length) }), body.split(''), live(), {
      gapMs: 20,
      timeoutMs: 1500,
      expected: 2,
    })
    expect(res.responses.map((r) => r.status)).toEqual([401, 200])
    const [refused] = res.responses
    expect(JSON.parse(refused!.body).error.detail).toBe(detail)
    expect(refused!.headers.connection).toBeUndefined()
    // Answered long before the whole body (some 420 ms of it) was sent.
    expect(refused!.atMs).toBeLessThan(150)
    expect(res.responses[1]!.atMs).toBeGreaterThanOrEqual(body.length * 20 - 20)
  })

  test('a larger declared body is not read either: the connection is closed after the 401', async () => {
    const res = await rawRequest(real.port!, head('/v2/apis.createApi', { 'content-length': String(64 * 1024) }), 'x'.repeat(30).split(''), {
      gapMs: 200,
      closeOnAnswer: false,
      timeoutMs: 5000,
    })
    expect(res.status).toBe(401)
    expect(res.headers.connection).toBe('close')
    expect(res.respondedMs).toBeLessThan(150)
    expect(res.serverClosed).toBe(true)
    expect(res.closedMs).toBeLessThan(1000)
  })
})

/** A liveness request, sent after a refused one on the same connection. */
const live = () => head('/v2/liveness', {}, 'GET')

test('a refused request whose small body came with it keeps its connection (the body is left unread)', async () => {
  const body = '{"apiId":"api_1"}'
  const res = await rawExchange(real.port!, head('/v2/apis.getApi', { 'content-length': String(body.length) }) + body, [], live(), {
    gapMs: 0,
    timeoutMs: 600,
  })
  expect(res.responses.map((r) => [r.status, r.headers.connection])).toEqual([
    [401, undefined],
    [200, undefined],
  ])
  expect(res.serverClosed).toBe(false)
})

test('an unknown route answers 404 at once; the small body is skipped and the connection serves the next request', async () => {
  const res = await rawExchange(real.port!, head('/v2/keys.nothing', { ...bearer(), 'content-length': '30' }), 'x'.repeat(30).split(''), live(), {
    gapMs: 20,
    timeoutMs: 1500,
    expected: 2,
  })
  expect(res.responses.map((r) => r.status)).toEqual([404, 200])
  expect(res.responses[0]!.atMs).toBeLessThan(150)
})

test('an unknown route with a larger declared body: 404 at once, and the connection is closed', async () => {
  const res = await rawRequest(real.port!, head('/v2/keys.nothing', { ...bearer(), 'content-length': String(64 * 1024) }), 'x'.repeat(30).split(''), {
    gapMs: 200,
    closeOnAnswer: false,
    timeoutMs: 5000,
  })
  expect(res.status).toBe(404)
  expect(res.respondedMs).toBeLessThan(150)
  expect(res.serverClosed).toBe(true)
  expect(res.closedMs).toBeLessThan(1000)
})

describe('the server', () => {
  test('closes an idle keep-alive connection after idleTimeoutSeconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latch-idle-'))
    const base = loadConfig({ port: '0', host: '127.0.0.1', db: join(dir, 'latch.db') }, { LATCH_LOG: 'off' }, dir)
    const server = await startServer({ ...base, tunables: { ...base.tunables, idleTimeoutSeconds: 1 } }, { handleSignals: false })
    try {
      const res = await rawRequest(server.port, head('/v2/liveness', {}, 'GET'), [], { closeOnAnswer: false, timeoutMs: 12_000 })
      expect(res.status).toBe(200)
      expect(res.serverClosed).toBe(true)
    } finally {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 15_000)
})
