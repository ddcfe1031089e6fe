// keys.addPermissions: grants direct permissions, creating unknown slugs;
// idempotent; verification sees the change at once.
import { describe, expect, test } from 'bun:test'
import { type Harness, PERMISSION_ID, REQUEST_ID } from '../../support/harness'
import { describeKeyAccessErrors, many, SLUG_PATTERN, slugs, withKeyAccess } from '../../support/key-access'
import { type IssuedKey, verifiedAccess } from '../../support/keys'

let h: Harness
let key: string
let k: IssuedKey
const current = withKeyAccess((f) => ({ h, root: key, k } = f))

describe('keys.addPermissions', () => {
  test('grants permissions, creating unknown slugs; returns all direct permissions sorted by slug', async () => {
    const readId = (await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read', description: 'View' }, key)).permissionId
    // Warm the verification cache, so that the test sees invalidation, not a first load.
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: [], roles: [] })

    const res = await h.call('/v2/keys.addPermissions', { keyId: k.keyId, permissions: ['documents.write', 'documents.read'] }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: [
        { id: readId, name: 'Read', slug: 'documents.read', description: 'View' },
        { id: PERMISSION_ID, name: 'documents.write', slug: 'documents.write' },
      ],
    })
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'documents.write'], roles: [] })
  })

  test('adding is idempotent and keeps what the key had', async () => {
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['a'] }, key)
    const data = await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['b', 'a', 'b'] }, key)
    expect(slugs(data)).toEqual(['a', 'b'])
    expect(h.db.query('SELECT COUNT(*) AS n FROM permissions').get()).toEqual({ n: 2 })
  })

  test('permissions from roles are not part of the result but count for verification', async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.write'] }, key)
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    expect(slugs(await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['documents.read'] }, key))).toEqual(['documents.read'])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'documents.write'], roles: ['editor'] })
  })

  test('also answers under /v1', async () => {
    const res = await h.call('/v1/keys.addPermissions', { keyId: k.keyId, permissions: ['a'] }, key)
    expect(res.status).toBe(200)
    expect(slugs(res.body.data)).toEqual(['a'])
  })

  test('adding the slug of another workspace’s permission creates this workspace’s own', async () => {
    const other = await h.rootKey('other')
    await h.ok('permissions.createRole', { name: 'foreign', permissions: ['foreign.perm'] }, other)
    const added = await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['foreign.perm'] }, key)
    const theirs = await h.ok('permissions.getPermission', { permission: 'foreign.perm' }, other)
    expect(added[0].id).not.toBe(theirs.id)
  })
})

describe('keys.addPermissions errors', () => {
  test('a 404 for the key creates no permission (addPermissions, setPermissions)', async () => {
    await h.call('/v2/keys.addPermissions', { keyId: 'key_doesnotexist', permissions: ['brand.new'] }, key)
    await h.call('/v2/keys.setPermissions', { keyId: 'key_doesnotexist', permissions: ['brand.new'] }, key)
    expect(h.db.query("SELECT COUNT(*) AS n FROM permissions WHERE slug = 'brand.new'").get()).toEqual({ n: 0 })
  })
})

describeKeyAccessErrors(current, {
  rpc: 'keys.addPermissions',
  body: { permissions: ['a'] },
  invalid: [
    [() => ({ permissions: ['a'] }), 'body.keyId', "Property 'keyId' is missing"],
    [() => ({ keyId: 'ab', permissions: ['a'] }), 'body.keyId', 'Expected string length greater or equal to 3'],
    [() => ({ keyId: 'key-1234', permissions: ['a'] }), 'body.keyId', "Expected string to match '^[a-zA-Z0-9_]+$'"],
    [(keyId) => ({ keyId }), 'body.permissions', "Property 'permissions' is missing"],
    [(keyId) => ({ keyId, permissions: [] }), 'body.permissions', 'Expected array length to be greater or equal to 1'],
    [(keyId) => ({ keyId, permissions: ['ok', 'not ok'] }), 'body.permissions[1]', SLUG_PATTERN],
    [(keyId) => ({ keyId, permissions: ['x'.repeat(129)] }), 'body.permissions[0]', 'Expected string length less or equal to 128'],
    [(keyId) => ({ keyId, permissions: many(1001, (i) => `p${i}`) }), 'body.permissions', 'Expected array length to be less or equal to 1000'],
    [(keyId) => ({ keyId, permissions: ['a'], extra: true }), 'body.extra', "Property 'extra' should not be provided"],
  ],
})
