// keys.setPermissions: makes a key's direct permissions exactly the given
// slugs (creating unknown ones); roles are left alone.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { describeKeyAccessErrors, SLUG_PATTERN, slugs, withKeyAccess } from '../../support/key-access'
import { type IssuedKey, issueKey, verifiedAccess } from '../../support/keys'

let h: Harness
let key: string
let k: IssuedKey
const current = withKeyAccess((f) => ({ h, root: key, k } = f))

describe('keys.setPermissions', () => {
  test('makes the direct permissions exactly the given slugs', async () => {
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['a', 'b'] }, key)
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['a', 'b'])
    const res = await h.call('/v2/keys.setPermissions', { keyId: k.keyId, permissions: ['c', 'b'] }, key)
    expect(res.status).toBe(200)
    expect(slugs(res.body.data)).toEqual(['b', 'c'])
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['b', 'c'])
  })

  test('an empty list clears direct permissions only', async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.read'] }, key)
    await h.ok('keys.setRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    await h.ok('keys.setPermissions', { keyId: k.keyId, permissions: ['a'] }, key)
    expect(await h.ok('keys.setPermissions', { keyId: k.keyId, permissions: [] }, key)).toEqual([])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read'], roles: ['editor'] })
  })

  test('changes to one key do not reach another key of the workspace', async () => {
    const other = await issueKey(h, 'acme', { permissions: ['a'] })
    await h.ok('keys.setPermissions', { keyId: k.keyId, permissions: ['b'] }, key)
    expect((await verifiedAccess(h, other.key)).permissions).toEqual(['a'])
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['b'])
  })
})

describeKeyAccessErrors(current, {
  rpc: 'keys.setPermissions',
  body: { permissions: ['a'] },
  invalid: [
    [(keyId) => ({ keyId }), 'body.permissions', "Property 'permissions' is missing"],
    [(keyId) => ({ keyId, permissions: ['a&b'] }), 'body.permissions[0]', SLUG_PATTERN],
  ],
})
