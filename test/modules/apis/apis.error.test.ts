import { describe, expect, test } from 'bun:test'
import { errorBody, type Harness, notFoundBody, invalidBody, withHarness } from '../../support/harness'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

describe('apis.createApi validation', () => {
  test.each([
    [{ name: 'ab' }, 'body.name', 'Expected string length greater or equal to 3'],
    [{ name: 'x'.repeat(257) }, 'body.name', 'Expected string length less or equal to 256'],
    [{ name: 42 }, 'body.name', "Expected property 'name' to be string but found: 42"],
    [{}, 'body.name', "Property 'name' is missing"],
    [{ name: 'payments', extra: 1 }, 'body.extra', "Property 'extra' should not be provided"],
  ])('%p is a 400', async (body, location, message) => {
    const res = await h.call('/v2/apis.createApi', body, key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('/v2/apis.createApi', location, message))
  })

  test('a body that is not JSON is a 400 naming the body', async () => {
    const res = await h.call('/v2/apis.createApi', '{"name":', key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(
      errorBody(400, 'Bad Request', 'user/bad_request/request_body_unreadable', 'The request body is missing or is not valid JSON.', [
        {
          location: 'body',
          message: 'The request body is missing or is not valid JSON.',
          fix: 'Send a valid JSON document with Content-Type: application/json.',
        },
      ]),
    )
  })

  test('a JSON array body is a 400', async () => {
    const res = await h.call('/v2/apis.createApi', '[]', key)
    expect(res.status).toBe(400)
    expect(res.body.error.errors[0].location).toBe('body')
  })

  test('nothing is written when validation fails', async () => {
    await h.call('/v2/apis.createApi', { name: 'ab' }, key)
    expect(h.db.query('SELECT COUNT(*) AS n FROM apis').get()).toEqual({ n: 0 })
  })
})

describe('apis.getApi / deleteApi validation and 404', () => {
  test.each(['apis.getApi', 'apis.deleteApi'])('%s: short or malformed apiId is a 400', async (rpc) => {
    const short = await h.call(`/v2/${rpc}`, { apiId: 'api_1' }, key)
    expect(short.status).toBe(400)
    expect(short.body.error.errors).toEqual([{ location: 'body.apiId', message: 'Expected string length greater or equal to 8' }])
    const pattern = await h.call(`/v2/${rpc}`, { apiId: 'api-12345678' }, key)
    expect(pattern.status).toBe(400)
    expect(pattern.body.error.errors[0].location).toBe('body.apiId')
  })

  test.each(['apis.getApi', 'apis.deleteApi'])('%s: unknown API is a 404', async (rpc) => {
    const res = await h.call(`/v2/${rpc}`, { apiId: 'api_doesnotexist' }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(notFoundBody('api', 'The requested API does not exist or has been deleted.'))
  })

  test('a delete-protected API answers 412 and stays', async () => {
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, key)
    await h.services.apis.setDeleteProtection(await h.workspaceId('acme'), apiId, true)
    const res = await h.call('/v2/apis.deleteApi', { apiId }, key)
    expect(res.status).toBe(412)
    expect(res.body).toEqual(
      errorBody(
        412,
        'Resource is protected',
        'unkey/application/protected_resource',
        'This API has delete protection enabled. Disable it before attempting to delete.',
      ),
    )
    expect((await h.call('/v2/apis.getApi', { apiId }, key)).status).toBe(200)
  })
})
