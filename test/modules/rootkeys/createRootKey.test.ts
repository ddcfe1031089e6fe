// rootKeys.createRootKey: a new root key of the caller's workspace, shown
// once; what it may do; and that no key can hand out more than it holds.
import { describe, expect, test } from 'bun:test'
import { errorBody, forbiddenBody, type Harness, invalidBody, REQUEST_ID, withHarness } from '../../support/harness'
import { eventsNamed, issueRootKey, listed, rootKeyCount } from './fixture'

const RK_ID = expect.stringMatching(/^rk_[1-9A-HJ-NP-Za-km-z]+$/)
const ROOT_KEY = expect.stringMatching(/^unkey_[1-9A-HJ-NP-Za-km-z]+$/)

let h: Harness
let root: string
withHarness((f) => {
  ;({ h, root } = f)
})

const create = (body: unknown, key = root) => h.call('/v2/rootKeys.createRootKey', body, key)

describe('rootKeys.createRootKey', () => {
  test('creates a key in the caller’s workspace that can do exactly what it was granted', async () => {
    const res = await create({ name: 'read-only', permissions: ['api.*.read_api'] })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { rootKeyId: RK_ID, key: ROOT_KEY, workspaceId: await h.workspaceId('ws') } })
    const { key } = res.body.data
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, root)
    expect(await h.ok('apis.getApi', { apiId }, key)).toEqual({ id: apiId, name: 'payments' })
    expect((await h.call('/v2/apis.createApi', { name: 'other' }, key)).body).toEqual(forbiddenBody(['api.*.create_api']))
  })

  test('stores only the hash and shows the key’s start, name and permissions in the listing', async () => {
    const { rootKeyId, key } = await h.ok(
      'rootKeys.createRootKey',
      { name: ' ci deploy ', permissions: ['api.*.read_api', 'api.*.read_api', 'audit.*.read_logs'] },
      root,
    )
    const row = h.db.query<{ hash: string; start: string }, [string]>('SELECT hash, start FROM root_keys WHERE id = ?').get(rootKeyId)!
    expect(row.hash).not.toContain(key)
    expect(key.startsWith(row.start)).toBe(true)
    expect((await listed(h, root)).find((k) => k.id === rootKeyId)).toEqual({
      id: rootKeyId,
      name: 'ci deploy',
      start: row.start,
      permissions: ['api.*.read_api', 'audit.*.read_logs'],
      createdAt: h.clock.now(),
      status: 'active',
    })
  })

  test('expiresIn makes the key expire that many milliseconds from now', async () => {
    const { rootKeyId, key } = await h.ok('rootKeys.createRootKey', { name: 'temp', permissions: ['api.*.read_api'], expiresIn: 60_000 }, root)
    expect((await listed(h, root)).find((k) => k.id === rootKeyId).expiresAt).toBe(h.clock.now() + 60_000)
    h.clock.advance(59_999)
    expect((await h.call('/v2/apis.listApis', {}, key)).status).toBe(200)
    h.clock.advance(1)
    expect((await h.call('/v2/apis.listApis', {}, key)).body.error.detail).toBe('The provided root key has expired')
  })

  test('is audited with the calling key as the actor, naming the new key', async () => {
    const caller = await issueRootKey(h, ['root_key.*.create_root_key', 'api.*.read_api'], { name: 'admin console' })
    const { rootKeyId } = await h.ok('rootKeys.createRootKey', { name: 'reader', permissions: ['api.*.read_api'] }, caller.key)
    const [event] = await eventsNamed(h, root, 'root_key.create')
    expect(event).toMatchObject({
      event: 'root_key.create',
      actor: { type: 'root_key', id: caller.rootKeyId, name: 'admin console' },
      resources: [{ type: 'root_key', id: rootKeyId, name: 'reader' }],
      description: 'Created root key reader with permissions api.*.read_api',
    })
  })

  describe('400, and nothing is created', () => {
    test.each([
      [
        'an unknown action',
        ['api.*.read_api', 'api.*.fly'],
        'body.permissions[1]',
        "invalid permission 'api.*.fly': unknown action 'fly' for resource type 'api' (expected one of read_api, create_api, delete_api, update_api, create_key, update_key, delete_key, encrypt_key, decrypt_key, read_key, verify_key, read_analytics)",
      ],
      [
        'a root-key grant on one key',
        ['root_key.rk_1.delete_root_key'],
        'body.permissions[0]',
        "invalid permission 'root_key.rk_1.delete_root_key': 'delete_root_key' can only be granted on every resource ('root_key.*.delete_root_key')",
      ],
      [
        'two parts',
        ['api.read_api'],
        'body.permissions[0]',
        "invalid permission 'api.read_api' must be '*' or have three dot-separated parts: resourceType.resourceId.action",
      ],
    ])('%s', async (_, permissions, location, message) => {
      const before = rootKeyCount(h)
      const res = await create({ name: 'bad', permissions })
      expect(res.status).toBe(400)
      expect(res.body).toEqual(errorBody(400, 'Bad Request', 'unkey/application/invalid_input', message, [{ location, message }]))
      expect(rootKeyCount(h)).toBe(before)
    })

    test.each([
      ['no permissions', { name: 'x', permissions: [] }, 'body.permissions', 'Expected array length to be greater or equal to 1'],
      ['a blank name', { name: '   ', permissions: ['*'] }, 'body.name', "Expected string to match '\\S'"],
      ['an expiry of 0 ms', { name: 'x', permissions: ['*'], expiresIn: 0 }, 'body.expiresIn', 'Expected integer to be greater or equal to 1'],
      ['an unknown field', { name: 'x', permissions: ['*'], workspaceId: 'ws_other' }, 'body.workspaceId', "Property 'workspaceId' should not be provided"],
    ])('%s', async (_, body, location, message) => {
      const before = rootKeyCount(h)
      const res = await create(body)
      expect(res.status).toBe(400)
      expect(res.body).toEqual(invalidBody('rootKeys.createRootKey', location, message))
      expect(rootKeyCount(h)).toBe(before)
    })
  })

  describe('no key grants what it does not hold (403 naming it, nothing created)', () => {
    const CREATE = 'root_key.*.create_root_key'
    test.each([
      ['* from a key holding every other grant but *', [CREATE, 'api.*.read_api', 'api.*.create_api', 'audit.*.read_logs'], ['*'], '*'],
      ['a wildcard from a key holding it on one API', [CREATE, 'api.api_1.read_api'], ['api.*.read_api'], 'api.*.read_api'],
      ['another API’s action', [CREATE, 'api.api_1.read_api'], ['api.api_2.read_api'], 'api.api_2.read_api'],
      ['another action on the same API', [CREATE, 'api.api_1.read_api'], ['api.api_1.delete_api'], 'api.api_1.delete_api'],
      ['the same action of another resource type', [CREATE, 'api.*.read_analytics'], ['ratelimit.*.read_analytics'], 'ratelimit.*.read_analytics'],
      ['revocation from a key that may only create', [CREATE], ['root_key.*.delete_root_key'], 'root_key.*.delete_root_key'],
      ['one held and one not', [CREATE, 'api.*.read_api'], ['api.*.read_api', 'identity.*.read_identity'], 'identity.*.read_identity'],
    ])('%s', async (_, holds, grants, missing) => {
      const caller = await issueRootKey(h, holds)
      const before = rootKeyCount(h)
      const res = await create({ name: 'escalated', permissions: grants }, caller.key)
      expect(res.status).toBe(403)
      expect(res.body).toEqual(forbiddenBody([missing]))
      expect(rootKeyCount(h)).toBe(before)
    })

    test('what a key holds, or a part of a wildcard it holds, may be granted', async () => {
      const caller = await issueRootKey(h, ['root_key.*.create_root_key', 'api.*.read_api', 'api.api_1.delete_api'])
      for (const grants of [['api.*.read_api'], ['api.api_7.read_api', 'api.api_1.delete_api'], ['root_key.*.create_root_key']]) {
        expect((await create({ name: 'ok', permissions: grants }, caller.key)).status).toBe(200)
      }
    })

    test('a key that expires cannot create one that outlives it', async () => {
      const expiresAt = h.clock.now() + 3_600_000
      const caller = await issueRootKey(h, ['*'], { expiresAt })
      const detail = `Your key expires at ${new Date(expiresAt).toISOString()} and cannot issue a root key that outlives it`
      for (const body of [{}, { expiresIn: 3_600_001 }]) {
        const res = await create({ name: 'forever', permissions: ['api.*.read_api'], ...body }, caller.key)
        expect(res.status).toBe(403)
        expect(res.body).toEqual(errorBody(403, 'Forbidden', 'forbidden', detail))
      }
      expect((await create({ name: 'shorter', permissions: ['api.*.read_api'], expiresIn: 3_600_000 }, caller.key)).status).toBe(200)
    })
  })

  test('the new key belongs to the caller’s workspace only', async () => {
    const other = await h.rootKey('other-ws')
    const { rootKeyId } = await h.ok('rootKeys.createRootKey', { name: 'mine', permissions: ['*'] }, other)
    expect((await listed(h, root)).map((k) => k.id)).not.toContain(rootKeyId)
    expect((await listed(h, other)).map((k) => k.id)).toContain(rootKeyId)
  })
})
