// latch's own listener (src/runtime/) over a real socket: a request reaches its
// route by its path whatever Host header it came with. Elysia looked for the
// path from the URL's twelfth character on, so a Host shorter than four
// characters (a proxy naming a service "api") missed every route that Elysia
// answers: under Bun each one a hot or refusing route hands on, under Deno all.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { runtime } from '#runtime'
import type { Listener } from '../../src/runtime/runtime'
import { Harness, TEST_LISTEN } from '../support/harness'
import { rawRequest } from '../support/raw-http'

let h: Harness
let root: string
let served: Listener

beforeAll(async () => {
  h = new Harness()
  root = await h.rootKey('ws')
  served = runtime.listen(h.app, TEST_LISTEN)
})
afterAll(async () => {
  await served.stop()
  await h.close()
})

/** A request head with the given Host (raw-http's `head` always sends 127.0.0.1). */
const withHost = (host: string, method: string, path: string, headers: Record<string, string> = {}) =>
  `${[`${method} ${path} HTTP/1.1`, `Host: ${host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n')}\r\n\r\n`

for (const host of ['a', 'api', 'api:8080', 'latch.internal']) {
  test(`Host: ${host} reaches the routes (liveness, an RPC with a body, a hot route)`, async () => {
    const live = await rawRequest(served.port, withHost(host, 'GET', '/v2/liveness'))
    expect([live.status, JSON.parse(live.body).data]).toEqual([200, { message: "we're cooking" }])

    const body = JSON.stringify({ name: `api for ${host}` })
    const auth = { authorization: `Bearer ${root}`, 'content-type': 'application/json', 'content-length': String(body.length) }
    const created = await rawRequest(served.port, withHost(host, 'POST', '/v2/apis.createApi', auth), [body])
    expect(created.status).toBe(200)
    const { apiId } = JSON.parse(created.body).data
    const ask = JSON.stringify({ apiId })
    const got = await rawRequest(served.port, withHost(host, 'POST', '/v2/apis.getApi', { ...auth, 'content-length': String(ask.length) }), [ask])
    expect([got.status, JSON.parse(got.body).data]).toEqual([200, { id: apiId, name: `api for ${host}` }])

    const verify = JSON.stringify({ key: 'unk_not_a_key' })
    const verified = await rawRequest(served.port, withHost(host, 'POST', '/v2/keys.verifyKey', { ...auth, 'content-length': String(verify.length) }), [verify])
    expect([verified.status, JSON.parse(verified.body).data]).toEqual([200, { valid: false, code: 'NOT_FOUND' }])
  })
}
