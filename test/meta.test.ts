// src/meta.ts: the checks every `meta` passes before it is stored, whichever
// route takes it.
import { describe, expect, test } from 'bun:test'
import { errorBody, type Harness, withApi } from './support/harness'

let h: Harness
let root: string
let apiId: string
withApi((f) => ({ h, root, apiId } = f))

describe('meta', () => {
  const bodyWith = (rpc: string, meta: string) => (rpc === 'keys.createKey' ? `{"apiId":"${apiId}","meta":${meta}}` : `{"externalId":"deep","meta":${meta}}`)

  test.each(['keys.createKey', 'identities.createIdentity'])('%s: meta nested 40 levels deep is a 400 naming meta', async (rpc) => {
    const meta = '{"a":'.repeat(40) + '{"leaf":true}' + '}'.repeat(40)
    const res = await h.call(`/v2/${rpc}`, bodyWith(rpc, meta), root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(
      errorBody(400, 'Bad Request', 'unkey/application/invalid_input', 'Metadata is nested too deeply: at most 32 levels are allowed.', [
        { location: 'body.meta', message: 'nested deeper than 32 levels' },
      ]),
    )
  })

  test.each(['keys.createKey', 'identities.createIdentity'])('%s: meta nested 100,000 levels deep is a 400, not a crash', async (rpc) => {
    // Written by hand: JSON.stringify itself cannot go this deep. The body's own depth limit refuses it before parsing.
    const meta = '{"a":'.repeat(100_000) + '{"leaf":true}' + '}'.repeat(100_000)
    const res = await h.call(`/v2/${rpc}`, bodyWith(rpc, meta), root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(
      errorBody(400, 'Bad Request', 'unkey/application/invalid_input', 'The request body is nested deeper than 64 levels.', [
        { location: 'body', message: 'is nested deeper than 64 levels' },
      ]),
    )
  })
})
