import { describe, expect, test } from 'bun:test'
import { type Harness, REQUEST_ID, withHarness } from '../../support/harness'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

describe('apis.createApi', () => {
  test('creates an API and returns its id', async () => {
    const res = await h.call('/v2/apis.createApi', { name: 'payments' }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { apiId: expect.stringMatching(/^api_[A-Za-z0-9]{8,}$/) } })
    expect(res.headers.get('content-type')).toStartWith('application/json')
    expect(res.headers.get('x-request-id')).toBe(res.body.meta.requestId)
  })

  test('also answers under /v1', async () => {
    const res = await h.call('/v1/apis.createApi', { name: 'payments' }, key)
    expect(res.status).toBe(200)
    const got = await h.ok('apis.getApi', { apiId: res.body.data.apiId }, key)
    expect(got).toEqual({ id: res.body.data.apiId, name: 'payments' })
  })
})

describe('apis.getApi', () => {
  test('returns id and name', async () => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, key)
    const res = await h.call('/v2/apis.getApi', { apiId }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { id: apiId, name: 'payments' } })
  })
})

describe('apis.deleteApi', () => {
  test('deletes the API; it is gone afterwards and a second delete is 404', async () => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, key)
    const res = await h.call('/v2/apis.deleteApi', { apiId }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect((await h.call('/v2/apis.getApi', { apiId }, key)).status).toBe(404)
    expect((await h.call('/v2/apis.deleteApi', { apiId }, key)).status).toBe(404)
  })

  test('the keys of a deleted API stop verifying at once, even when cached', async () => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, key)
    const b = await h.ok('keys.createKey', { apiId }, key)
    await h.ok('keys.verifyKey', { key: b.key }, key)
    await h.ok('apis.deleteApi', { apiId }, key)
    expect((await h.ok('keys.verifyKey', { key: b.key }, key)).code).toBe('NOT_FOUND')
  })
})
