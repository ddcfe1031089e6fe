// rootKeys.revokeRootKey: a revoked key stops working with the very next
// request; only keys of the caller's workspace, and only keys whose every
// permission the caller holds, can be revoked.
import { describe, expect, test } from 'bun:test'
import { errorBody, forbiddenBody, type Harness, invalidBody, notFoundBody, withHarness } from '../../support/harness'
import { eventsNamed, issueRootKey, listed } from './fixture'

const rootKeyNotFound = notFoundBody('key', 'This root key does not exist.')
const REVOKED = errorBody(401, 'Unauthorized', 'unauthorized', 'The provided root key is invalid or has been revoked')

let h: Harness
let root: string
withHarness((f) => {
  ;({ h, root } = f)
})

const revoke = (rootKeyId: string, key = root) => h.call('/v2/rootKeys.revokeRootKey', { rootKeyId }, key)

describe('rootKeys.revokeRootKey', () => {
  test('the key stops working with the next request, though it was just used', async () => {
    const target = await issueRootKey(h, ['api.*.read_api'])
    expect((await h.call('/v2/apis.listApis', {}, target.key)).status).toBe(200)
    const res = await revoke(target.rootKeyId)
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({})
    expect((await h.call('/v2/apis.listApis', {}, target.key)).body).toEqual(REVOKED)
    expect((await listed(h, root)).find((k) => k.id === target.rootKeyId)).toMatchObject({ revokedAt: h.clock.now(), status: 'revoked' })
  })

  test('is audited once; revoking again changes nothing and records nothing', async () => {
    const caller = await issueRootKey(h, ['root_key.*.delete_root_key', 'api.*.read_api'], { name: 'console' })
    const target = await issueRootKey(h, ['api.*.read_api'], { name: 'ci' })
    expect((await revoke(target.rootKeyId, caller.key)).status).toBe(200)
    h.clock.advance(5000)
    expect((await revoke(target.rootKeyId, caller.key)).status).toBe(200)
    const events = await eventsNamed(h, root, 'root_key.revoke')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      actor: { type: 'root_key', id: caller.rootKeyId, name: 'console' },
      resources: [{ type: 'root_key', id: target.rootKeyId, name: 'ci' }],
      description: 'Revoked root key ci',
    })
    expect((await listed(h, root)).find((k) => k.id === target.rootKeyId).revokedAt).toBe(h.clock.now() - 5000)
  })

  test('a key may revoke itself; its next call is a 401', async () => {
    const self = await issueRootKey(h, ['root_key.*.delete_root_key'])
    expect((await revoke(self.rootKeyId, self.key)).status).toBe(200)
    expect((await revoke(self.rootKeyId, self.key)).body).toEqual(REVOKED)
  })

  test('404 for a key that does not exist or belongs to another workspace, which keeps working', async () => {
    expect((await revoke('rk_doesnotexist')).body).toEqual(rootKeyNotFound)
    const other = await issueRootKey(h, ['api.*.read_api'], { workspace: 'other-ws' })
    const res = await revoke(other.rootKeyId)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(rootKeyNotFound)
    expect((await h.call('/v2/apis.listApis', {}, other.key)).status).toBe(200)
  })

  describe('403 for a key holding more than the caller, which keeps working', () => {
    test.each([
      ['a * key', ['*'], ['root_key.*.delete_root_key', 'api.*.read_api'], '*'],
      ['a wildcard grant the caller holds on one API', ['api.*.read_api'], ['root_key.*.delete_root_key', 'api.api_1.read_api'], 'api.*.read_api'],
      ['a key that may create root keys', ['root_key.*.create_root_key'], ['root_key.*.delete_root_key'], 'root_key.*.create_root_key'],
    ])('%s', async (_, targetGrants, callerGrants, missing) => {
      const target = await issueRootKey(h, targetGrants)
      const caller = await issueRootKey(h, callerGrants)
      const res = await revoke(target.rootKeyId, caller.key)
      expect(res.status).toBe(403)
      expect(res.body).toEqual(forbiddenBody([missing]))
      expect((await h.call('/v2/rootKeys.whoami', {}, target.key)).status).toBe(200)
    })
  })

  test.each([
    [{}, 'body.rootKeyId', "Property 'rootKeyId' is missing"],
    [{ rootKeyId: 'rk-1' }, 'body.rootKeyId', "Expected string to match '^[a-zA-Z0-9_]+$'"],
    [{ rootKeyId: 'rk_1', also: true }, 'body.also', "Property 'also' should not be provided"],
  ])('400 for %p', async (body, location, message) => {
    const res = await h.call('/v2/rootKeys.revokeRootKey', body, root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('rootKeys.revokeRootKey', location, message))
  })
})
