// apis.updateApi: rename an API and turn its delete protection on or off,
// answered with the API afterwards and audited as one change.
import { describe, expect, test } from 'bun:test'
import { errorBody, type Harness, invalidBody, notFoundBody, REQUEST_ID, withHarness } from '../../support/harness'

const apiNotFound = notFoundBody('api', 'The requested API does not exist or has been deleted.')

let h: Harness
let root: string
let apiId: string
withHarness(async (f) => {
  ;({ h, root } = f)
  apiId = (await h.ok('apis.createApi', { name: 'payments' }, root)).apiId
})

const update = (body: Record<string, unknown>) => h.call('/v2/apis.updateApi', { apiId, ...body }, root)
const lastUpdate = async () => (await h.ok('audit.listLogs', { events: ['api.update'] }, root))[0]

describe('apis.updateApi', () => {
  test('renames the API and returns it', async () => {
    const res = await update({ name: 'payments v2' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: { id: apiId, name: 'payments v2', deleteProtection: false, createdAt: h.clock.now() },
    })
    expect(await h.ok('apis.getApi', { apiId }, root)).toEqual({ id: apiId, name: 'payments v2' })
    expect((await lastUpdate()).description).toBe('Renamed API payments to payments v2')
  })

  test('delete protection on makes apis.deleteApi answer 412; off lets it delete', async () => {
    expect((await update({ deleteProtection: true })).body.data.deleteProtection).toBe(true)
    expect((await lastUpdate()).description).toBe('Enabled delete protection of API payments')
    expect((await h.call('/v2/apis.deleteApi', { apiId }, root)).status).toBe(412)
    expect((await update({ deleteProtection: false })).body.data.deleteProtection).toBe(false)
    expect((await h.call('/v2/apis.deleteApi', { apiId }, root)).status).toBe(200)
  })

  test('both at once are one audited change', async () => {
    const { data } = (await update({ name: 'checkout', deleteProtection: true })).body
    expect(data).toMatchObject({ name: 'checkout', deleteProtection: true })
    const events = await h.ok('audit.listLogs', { events: ['api.update'] }, root)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      actor: { type: 'root_key' },
      resources: [{ type: 'api', id: apiId, name: 'checkout' }],
      description: 'Renamed API payments to checkout and enabled its delete protection',
    })
  })

  test('400 when there is nothing to update, and nothing is recorded', async () => {
    const message = 'Nothing to update: give a name, deleteProtection or both.'
    const res = await update({})
    expect(res.body).toEqual(errorBody(400, 'Bad Request', 'unkey/application/invalid_input', message, [{ location: 'body', message }]))
    expect(await h.ok('audit.listLogs', { events: ['api.update'] }, root)).toEqual([])
  })

  test.each([
    [{ name: 'ab' }, 'body.name', 'Expected string length greater or equal to 3'],
    [{ deleteProtection: 'yes' }, 'body.deleteProtection', 'Expected boolean'],
    [{ apiId: 'api-1' }, 'body.apiId', 'Expected string length greater or equal to 8'],
  ])('400 for %p, and nothing changes', async (body, location, message) => {
    const res = await update(body)
    expect(res.body).toEqual(invalidBody('apis.updateApi', location, message))
    expect(await h.ok('apis.getApi', { apiId }, root)).toEqual({ id: apiId, name: 'payments' })
  })

  test('404 for a deleted API, a missing one and another workspace’s', async () => {
    const other = await h.rootKey('other-ws')
    const foreign = (await h.ok('apis.createApi', { name: 'theirs' }, other)).apiId
    const gone = (await h.ok('apis.createApi', { name: 'gone' }, root)).apiId
    await h.ok('apis.deleteApi', { apiId: gone }, root)
    for (const id of [gone, 'api_doesnotexist', foreign]) {
      const res = await h.call('/v2/apis.updateApi', { apiId: id, name: 'taken over' }, root)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(apiNotFound)
    }
    expect(await h.ok('apis.getApi', { apiId: foreign }, other)).toEqual({ id: foreign, name: 'theirs' })
  })
})
