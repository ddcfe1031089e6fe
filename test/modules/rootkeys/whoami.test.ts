// rootKeys.whoami: the calling key describes itself (what the console shows
// after sign-in); it needs no permission and tells nothing of other keys.
import { describe, expect, test } from 'bun:test'
import { type Harness, REQUEST_ID, withHarness } from '../../support/harness'
import { issueRootKey } from './fixture'

let h: Harness
withHarness((f) => {
  ;({ h } = f)
})

describe('rootKeys.whoami', () => {
  test('describes the calling key and its workspace, never its secret', async () => {
    const expiresAt = h.clock.now() + 60_000
    const { rootKeyId, key } = await issueRootKey(h, ['api.api_1.read_api'], { name: 'reader', expiresAt })
    const res = await h.call('/v2/rootKeys.whoami', {}, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {
        id: rootKeyId,
        name: 'reader',
        start: key.slice(0, res.body.data.start.length),
        permissions: ['api.api_1.read_api'],
        createdAt: h.clock.now(),
        expiresAt,
        status: 'active',
        workspace: { id: await h.workspaceId('ws'), name: 'ws' },
      },
    })
    expect(res.body.data.start.length).toBeLessThan(key.length)
  })

  test('400 for a body with fields', async () => {
    const { key } = await issueRootKey(h, ['api.*.read_api'])
    expect((await h.call('/v2/rootKeys.whoami', { rootKeyId: 'rk_other' }, key)).status).toBe(400)
  })
})
