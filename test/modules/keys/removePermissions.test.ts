// keys.removePermissions: takes direct permissions off a key by slug or id;
// permissions granted through roles stay, and the permissions themselves are
// not deleted.
import { describe, expect, test } from 'bun:test'
import { type Harness, notFoundBody, PERMISSION_ID, REQUEST_ID } from '../../support/harness'
import { describeKeyAccessErrors, slugs, withKeyAccess } from '../../support/key-access'
import { type IssuedKey, verifiedAccess } from '../../support/keys'

let h: Harness
let key: string
let k: IssuedKey
const current = withKeyAccess((f) => ({ h, root: key, k } = f))

describe('keys.removePermissions', () => {
  test('removes direct permissions by slug or id; roles keep granting theirs', async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.read'] }, key)
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    const added = await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['documents.read', 'documents.write', 'users.read'] }, key)
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['documents.read', 'documents.write', 'users.read'])

    const writeId = added.find((p: any) => p.slug === 'documents.write').id
    const res = await h.call('/v2/keys.removePermissions', { keyId: k.keyId, permissions: ['documents.read', writeId] }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: [{ id: PERMISSION_ID, name: 'users.read', slug: 'users.read' }] })
    // documents.read is still granted through the role.
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'users.read'], roles: ['editor'] })
    // The permissions themselves are not deleted.
    expect(h.db.query('SELECT COUNT(*) AS n FROM permissions').get()).toEqual({ n: 3 })
  })

  test('removing a permission the key does not have is a no-op', async () => {
    await h.ok('permissions.createPermission', { name: 'x', slug: 'x' }, key)
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['a'] }, key)
    expect(slugs(await h.ok('keys.removePermissions', { keyId: k.keyId, permissions: ['x'] }, key))).toEqual(['a'])
  })
})

describe('keys.removePermissions errors', () => {
  test('an unknown permission is a 404 naming it; nothing changes', async () => {
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['a', 'b'] }, key)
    const res = await h.call('/v2/keys.removePermissions', { keyId: k.keyId, permissions: ['a', 'nope'] }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(notFoundBody('permission', "Permission 'nope' was not found."))
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['a', 'b'])
  })

  test('a permission of another workspace counts as unknown', async () => {
    const other = await h.rootKey('other')
    await h.ok('permissions.createRole', { name: 'foreign', permissions: ['foreign.perm'] }, other)
    const removed = await h.call('/v2/keys.removePermissions', { keyId: k.keyId, permissions: ['foreign.perm'] }, key)
    expect(removed.body).toEqual(notFoundBody('permission', "Permission 'foreign.perm' was not found."))
  })
})

describeKeyAccessErrors(current, {
  rpc: 'keys.removePermissions',
  body: { permissions: ['a'] },
  invalid: [
    [(keyId) => ({ keyId, permissions: [] }), 'body.permissions', 'Expected array length to be greater or equal to 1'],
    [(keyId) => ({ keyId, permissions: [''] }), 'body.permissions[0]', 'Expected string length greater or equal to 1'],
  ],
})
