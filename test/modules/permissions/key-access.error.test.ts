import { beforeEach, describe, expect, test } from 'bun:test'
import { errorBody, Harness, notFoundBody, invalidBody, withHarness } from '../../support/harness'
import { issueKey, verifiedAccess } from './fixtures'

let h: Harness
let key: string
let k: Awaited<ReturnType<typeof issueKey>>
withHarness(async (f) => {
  ;({ h, root: key } = f)
  k = await issueKey(h)
}, 'acme')

const keyNotFound = notFoundBody('key', 'The requested key does not exist or has been deleted.')
const SLUG_PATTERN = "Expected string to match '^[a-zA-Z0-9_:\\-\\.\\*]+$'"
const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i))

describe('validation (400 names the field)', () => {
  test.each<[string, (keyId: string) => unknown, string, string]>([
    ['keys.addPermissions', () => ({ permissions: ['a'] }), 'body.keyId', "Property 'keyId' is missing"],
    ['keys.addPermissions', () => ({ keyId: 'ab', permissions: ['a'] }), 'body.keyId', 'Expected string length greater or equal to 3'],
    ['keys.addPermissions', () => ({ keyId: 'key-1234', permissions: ['a'] }), 'body.keyId', "Expected string to match '^[a-zA-Z0-9_]+$'"],
    ['keys.addPermissions', (keyId) => ({ keyId }), 'body.permissions', "Property 'permissions' is missing"],
    ['keys.addPermissions', (keyId) => ({ keyId, permissions: [] }), 'body.permissions', 'Expected array length to be greater or equal to 1'],
    ['keys.addPermissions', (keyId) => ({ keyId, permissions: ['ok', 'not ok'] }), 'body.permissions[1]', SLUG_PATTERN],
    ['keys.addPermissions', (keyId) => ({ keyId, permissions: ['x'.repeat(129)] }), 'body.permissions[0]', 'Expected string length less or equal to 128'],
    ['keys.addPermissions', (keyId) => ({ keyId, permissions: many(1001, (i) => `p${i}`) }), 'body.permissions', 'Expected array length to be less or equal to 1000'],
    ['keys.addPermissions', (keyId) => ({ keyId, permissions: ['a'], extra: true }), 'body.extra', "Property 'extra' should not be provided"],
    ['keys.removePermissions', (keyId) => ({ keyId, permissions: [] }), 'body.permissions', 'Expected array length to be greater or equal to 1'],
    ['keys.removePermissions', (keyId) => ({ keyId, permissions: [''] }), 'body.permissions[0]', 'Expected string length greater or equal to 1'],
    ['keys.setPermissions', (keyId) => ({ keyId }), 'body.permissions', "Property 'permissions' is missing"],
    ['keys.setPermissions', (keyId) => ({ keyId, permissions: ['a&b'] }), 'body.permissions[0]', SLUG_PATTERN],
    ['keys.addRoles', (keyId) => ({ keyId, roles: [] }), 'body.roles', 'Expected array length to be greater or equal to 1'],
    ['keys.addRoles', (keyId) => ({ keyId, roles: [''] }), 'body.roles[0]', 'Expected string length greater or equal to 1'],
    ['keys.addRoles', (keyId) => ({ keyId, roles: ['x'.repeat(129)] }), 'body.roles[0]', 'Expected string length less or equal to 128'],
    ['keys.removeRoles', (keyId) => ({ keyId, roles: [] }), 'body.roles', 'Expected array length to be greater or equal to 1'],
    ['keys.removeRoles', (keyId) => ({ keyId }), 'body.roles', "Property 'roles' is missing"],
    ['keys.setRoles', (keyId) => ({ keyId, roles: many(101, (i) => `r${i}`) }), 'body.roles', 'Expected array length to be less or equal to 100'],
    ['keys.setRoles', (keyId) => ({ keyId, roles: 'editor' }), 'body.roles', 'Expected array'],
  ])('%s is a 400 (%#)', async (rpc, body, location, message) => {
    const res = await h.call(`/v2/${rpc}`, body(k.keyId), key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody(rpc, location, message))
  })
})

describe('404 for the key', () => {
  const bodies: Record<string, Record<string, unknown>> = {
    'keys.addPermissions': { permissions: ['a'] },
    'keys.removePermissions': { permissions: ['a'] },
    'keys.setPermissions': { permissions: ['a'] },
    'keys.addRoles': { roles: ['editor'] },
    'keys.removeRoles': { roles: ['editor'] },
    'keys.setRoles': { roles: ['editor'] },
  }
  const rpcs = Object.keys(bodies)
  beforeEach(async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['a'] }, key)
  })

  test.each(rpcs)('%s: an unknown key', async (rpc) => {
    const res = await h.call(`/v2/${rpc}`, { keyId: 'key_doesnotexist', ...bodies[rpc] }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(keyNotFound)
  })

  test.each(rpcs)('%s: a key of another workspace is not found and not changed', async (rpc) => {
    const theirs = await issueKey(h, 'acme', { permissions: ['a'], roles: ['editor'] })
    const other = await h.rootKey('other')
    const res = await h.call(`/v2/${rpc}`, { keyId: theirs.keyId, ...bodies[rpc] }, other)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(keyNotFound)
    expect(await verifiedAccess(h, theirs.key)).toEqual({ permissions: ['a'], roles: ['editor'] })
  })

  test.each(rpcs)('%s: a deleted key, and a key of a deleted API', async (rpc) => {
    await h.ok('keys.deleteKey', { keyId: k.keyId }, key)
    expect((await h.call(`/v2/${rpc}`, { keyId: k.keyId, ...bodies[rpc] }, key)).body).toEqual(keyNotFound)
    const second = await issueKey(h)
    await h.ok('apis.deleteApi', { apiId: second.apiId }, key)
    expect((await h.call(`/v2/${rpc}`, { keyId: second.keyId, ...bodies[rpc] }, key)).body).toEqual(keyNotFound)
  })

  test('a 404 for the key creates no permission', async () => {
    await h.call('/v2/keys.addPermissions', { keyId: 'key_doesnotexist', permissions: ['brand.new'] }, key)
    await h.call('/v2/keys.setPermissions', { keyId: 'key_doesnotexist', permissions: ['brand.new'] }, key)
    expect(h.db.query("SELECT COUNT(*) AS n FROM permissions WHERE slug = 'brand.new'").get()).toEqual({ n: 0 })
  })
})

describe('404 for an unknown permission or role (nothing changes)', () => {
  test('removePermissions names the unknown permission', async () => {
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['a', 'b'] }, key)
    const res = await h.call('/v2/keys.removePermissions', { keyId: k.keyId, permissions: ['a', 'nope'] }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(notFoundBody('permission', "Permission 'nope' was not found."))
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['a', 'b'])
  })

  test.each(['keys.addRoles', 'keys.removeRoles', 'keys.setRoles'])('%s names the unknown role', async (rpc) => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['a'] }, key)
    await h.ok('permissions.createRole', { name: 'viewer' }, key)
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    const res = await h.call(`/v2/${rpc}`, { keyId: k.keyId, roles: ['viewer', 'ghost'] }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(notFoundBody('role', "Role 'ghost' was not found."))
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['a'], roles: ['editor'] })
  })

  test('a role or permission of another workspace counts as unknown', async () => {
    const other = await h.rootKey('other')
    await h.ok('permissions.createRole', { name: 'foreign', permissions: ['foreign.perm'] }, other)
    const res = await h.call('/v2/keys.addRoles', { keyId: k.keyId, roles: ['foreign'] }, key)
    expect(res.body).toEqual(notFoundBody('role', "Role 'foreign' was not found."))
    const removed = await h.call('/v2/keys.removePermissions', { keyId: k.keyId, permissions: ['foreign.perm'] }, key)
    expect(removed.body).toEqual(notFoundBody('permission', "Permission 'foreign.perm' was not found."))
    // Adding the same slug creates this workspace's own permission.
    const added = await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['foreign.perm'] }, key)
    const theirs = await h.ok('permissions.getPermission', { permission: 'foreign.perm' }, other)
    expect(added[0].id).not.toBe(theirs.id)
  })
})
