// rootKeys.rotateRootKey: a new key with the same name, permissions and
// expiry, shown once; the old one stops at once or after the grace period.
// Rotation is creation and revocation together, so it needs both grants and,
// like them, every permission of the key rotated.
import { describe, expect, test } from 'bun:test'
import { errorBody, forbiddenBody, type Harness, invalidBody, notFoundBody, REQUEST_ID, withHarness } from '../../support/harness'
import { eventsNamed, issueRootKey, listed, rootKeyCount } from './fixture'

const ROTATE_GRANTS = ['root_key.*.create_root_key', 'root_key.*.delete_root_key']
const REVOKED = errorBody(401, 'Unauthorized', 'unauthorized', 'The provided root key is invalid or has been revoked')
const EXPIRED = errorBody(401, 'Unauthorized', 'unauthorized', 'The provided root key has expired')

let h: Harness
let root: string
withHarness((f) => {
  ;({ h, root } = f)
})

const rotate = (body: Record<string, unknown>, key = root) => h.call('/v2/rootKeys.rotateRootKey', body, key)
const works = async (key: string) => (await h.call('/v2/apis.listApis', {}, key)).body

describe('rootKeys.rotateRootKey', () => {
  test('without a grace period the old key stops with the next request and the new one works', async () => {
    const old = await issueRootKey(h, ['api.*.read_api'], { name: 'ci' })
    expect((await works(old.key)).data).toEqual([])
    const res = await rotate({ rootKeyId: old.rootKeyId })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: {
        rootKeyId: expect.stringMatching(/^rk_/),
        key: expect.stringMatching(/^unkey_/),
        workspaceId: await h.workspaceId('ws'),
        replacedRootKeyId: old.rootKeyId,
        replacedKeyStopsAt: h.clock.now(),
      },
    })
    expect(await works(old.key)).toEqual(REVOKED)
    expect((await works(res.body.data.key)).data).toEqual([])
  })

  test('the new key keeps the name, permissions and expiry; the old one works through the grace period', async () => {
    const expiresAt = h.clock.now() + 86_400_000
    const old = await issueRootKey(h, ['api.*.read_api', 'audit.*.read_logs'], { name: 'deploy', expiresAt })
    const data = await h.ok('rootKeys.rotateRootKey', { rootKeyId: old.rootKeyId, gracePeriodMs: 60_000 }, root)
    expect(data.replacedKeyStopsAt).toBe(h.clock.now() + 60_000)
    const keys = await listed(h, root)
    expect(keys.find((k) => k.id === data.rootKeyId)).toMatchObject({
      name: 'deploy',
      permissions: ['api.*.read_api', 'audit.*.read_logs'],
      expiresAt,
      status: 'active',
    })
    expect(keys.find((k) => k.id === old.rootKeyId)).toMatchObject({ expiresAt: h.clock.now() + 60_000, status: 'active' })
    h.clock.advance(59_999)
    expect((await works(old.key)).data).toEqual([])
    h.clock.advance(1)
    expect(await works(old.key)).toEqual(EXPIRED)
    expect((await works(data.key)).data).toEqual([])
  })

  test('is audited with the caller as the actor, naming the old and the new key', async () => {
    const caller = await issueRootKey(h, [...ROTATE_GRANTS, 'api.*.read_api'], { name: 'console' })
    const old = await issueRootKey(h, ['api.*.read_api'], { name: 'ci' })
    const { rootKeyId } = await h.ok('rootKeys.rotateRootKey', { rootKeyId: old.rootKeyId }, caller.key)
    const [event, ...more] = await eventsNamed(h, root, 'root_key.rotate', 'root_key.create', 'root_key.revoke')
    expect(event).toMatchObject({
      event: 'root_key.rotate',
      actor: { type: 'root_key', id: caller.rootKeyId, name: 'console' },
      resources: [
        { type: 'root_key', id: old.rootKeyId, name: 'ci' },
        { type: 'root_key', id: rootKeyId, name: 'ci' },
      ],
      description: `Rotated root key ci: ${rootKeyId} replaces ${old.rootKeyId}, which stops at once`,
    })
    expect(more.map((e) => e.event)).toEqual(['root_key.create', 'root_key.create', 'root_key.create'])
  })

  test('a key may rotate itself', async () => {
    const self = await issueRootKey(h, ROTATE_GRANTS)
    const { key } = await h.ok('rootKeys.rotateRootKey', { rootKeyId: self.rootKeyId }, self.key)
    expect(await works(self.key)).toEqual(REVOKED)
    expect((await h.ok('rootKeys.whoami', {}, key)).permissions).toEqual(ROTATE_GRANTS)
  })

  describe('taking over a key that holds more is refused (403, nothing created, the key keeps working)', () => {
    test.each([
      ['a * key', ['*'], [...ROTATE_GRANTS, 'api.*.read_api'], '*'],
      ['a wildcard the caller holds on one API', ['api.*.read_api'], [...ROTATE_GRANTS, 'api.api_1.read_api'], 'api.*.read_api'],
      ['another resource’s action', ['identity.*.read_identity'], [...ROTATE_GRANTS, 'api.*.read_api'], 'identity.*.read_identity'],
    ])('%s', async (_, targetGrants, callerGrants, missing) => {
      const target = await issueRootKey(h, targetGrants)
      const caller = await issueRootKey(h, callerGrants)
      const before = rootKeyCount(h)
      const res = await rotate({ rootKeyId: target.rootKeyId, gracePeriodMs: 1000 }, caller.key)
      expect(res.status).toBe(403)
      expect(res.body).toEqual(forbiddenBody([missing]))
      expect(rootKeyCount(h)).toBe(before)
      h.clock.advance(1000)
      expect((await h.call('/v2/rootKeys.whoami', {}, target.key)).status).toBe(200)
    })

    test('a key that expires cannot rotate a key into one that outlives it', async () => {
      const expiresAt = h.clock.now() + 60_000
      const caller = await issueRootKey(h, ['*'], { expiresAt })
      const target = await issueRootKey(h, ['api.*.read_api'])
      const res = await rotate({ rootKeyId: target.rootKeyId }, caller.key)
      expect(res.body).toEqual(
        errorBody(403, 'Forbidden', 'forbidden', `Your key expires at ${new Date(expiresAt).toISOString()} and cannot issue a root key that outlives it`),
      )
      expect(await works(target.key)).toMatchObject({ data: [] })
    })
  })

  test('404 for a key that does not exist or belongs to another workspace', async () => {
    const other = await issueRootKey(h, ['api.*.read_api'], { workspace: 'other-ws' })
    for (const rootKeyId of ['rk_doesnotexist', other.rootKeyId]) {
      const res = await rotate({ rootKeyId })
      expect(res.status).toBe(404)
      expect(res.body).toEqual(notFoundBody('key', 'This root key does not exist.'))
    }
    expect((await works(other.key)).data).toEqual([])
  })

  test('400 for a revoked or expired key, naming it', async () => {
    const revoked = await issueRootKey(h, ['api.*.read_api'])
    await h.services.rootKeys.revoke(revoked.rootKeyId)
    const expired = await issueRootKey(h, ['api.*.read_api'], { expiresAt: h.clock.now() + 1 })
    h.clock.advance(1)
    for (const { rootKeyId } of [revoked, expired]) {
      const before = rootKeyCount(h)
      const message = `root key '${rootKeyId}' is already revoked or expired`
      const res = await rotate({ rootKeyId })
      expect(res.body).toEqual(errorBody(400, 'Bad Request', 'unkey/application/invalid_input', message, [{ location: 'body.rootKeyId', message }]))
      expect(rootKeyCount(h)).toBe(before)
    }
  })

  test.each([
    [{ gracePeriodMs: 604_800_001 }, 'body.gracePeriodMs', 'Expected integer to be less or equal to 604800000'],
    [{ gracePeriodMs: -1 }, 'body.gracePeriodMs', 'Expected integer to be greater or equal to 0'],
    [{ gracePeriodMs: 1.5 }, 'body.gracePeriodMs', 'Expected integer'],
  ])('400 for %p', async (extra, location, message) => {
    const target = await issueRootKey(h, ['api.*.read_api'])
    const res = await rotate({ rootKeyId: target.rootKeyId, ...extra })
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody('rootKeys.rotateRootKey', location, message))
  })

  test('the longest grace period is seven days', async () => {
    const target = await issueRootKey(h, ['api.*.read_api'])
    const data = await h.ok('rootKeys.rotateRootKey', { rootKeyId: target.rootKeyId, gracePeriodMs: 604_800_000 }, root)
    expect(data.replacedKeyStopsAt).toBe(h.clock.now() + 604_800_000)
  })
})
