// apis.createApi / getApi / deleteApi through the official SDK (@unkey/api
// 2.5.1) against a real listening latch: successes parse and errors arrive as
// typed classes. apis.listKeys is served by the keys module: its SDK tests are
// in test/modules/keys/keys.sdk.test.ts.
import { describe, expect, test } from 'bun:test'
import type { Unkey } from '@unkey/api'
import { NotFoundErrorResponse, PreconditionFailedErrorResponse } from '@unkey/api/models/errors'
import { type Harness, REQUEST_ID } from '../../support/harness'
import { failure, parsed, withSdk } from '../../support/sdk'

const DOCS = 'https://unkey.com/docs/errors/'

let h: Harness
let unkey: Unkey
let workspaceId: string
withSdk((f) => ({ h, unkey, workspaceId } = f))

describe('apis', () => {
  test('createApi, getApi, deleteApi parse; the deleted API is a NotFoundErrorResponse', async () => {
    const created = await parsed(unkey.apis.createApi({ name: 'billing' }))
    expect(created).toEqual({ meta: { requestId: REQUEST_ID }, data: { apiId: expect.stringMatching(/^api_/) } })
    const apiId = created.data.apiId

    expect(await parsed(unkey.apis.getApi({ apiId }))).toEqual({ meta: { requestId: REQUEST_ID }, data: { id: apiId, name: 'billing' } })
    expect(await parsed(unkey.apis.deleteApi({ apiId }))).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })

    const err = await failure(unkey.apis.getApi({ apiId }))
    expect(err).toBeInstanceOf(NotFoundErrorResponse)
    expect(err.statusCode).toBe(404)
    expect({ meta: (err as NotFoundErrorResponse).meta, error: (err as NotFoundErrorResponse).error }).toEqual({
      meta: { requestId: REQUEST_ID },
      error: {
        title: 'Not Found',
        detail: 'The requested API does not exist or has been deleted.',
        status: 404,
        type: `${DOCS}unkey/data/api_not_found`,
      },
    })
    expect(await failure(unkey.apis.deleteApi({ apiId }))).toBeInstanceOf(NotFoundErrorResponse)
  })

  test('deleteApi of a delete-protected API is a PreconditionFailedErrorResponse', async () => {
    const apiId = (await parsed(unkey.apis.createApi({ name: 'protected' }))).data.apiId
    await h.services.apis.setDeleteProtection(workspaceId, apiId, true)
    const err = await failure(unkey.apis.deleteApi({ apiId }))
    expect(err).toBeInstanceOf(PreconditionFailedErrorResponse)
    expect(err.statusCode).toBe(412)
    expect((err as PreconditionFailedErrorResponse).error).toEqual({
      title: 'Resource is protected',
      detail: 'This API has delete protection enabled. Disable it before attempting to delete.',
      status: 412,
      type: `${DOCS}unkey/application/protected_resource`,
    })
    expect((await parsed(unkey.apis.getApi({ apiId }))).data.id).toBe(apiId)
  })
})
