// keys.removeRoles: detaches roles by name or id; verification loses their
// permissions at once, direct permissions stay.
import { beforeEach, describe, expect, test } from 'bun:test'
import { type Harness, PERMISSION_ID, REQUEST_ID, ROLE_ID } from '../../support/harness'
import { createEditorViewerAuditor, describeKeyAccessErrors, withKeyAccess } from '../../support/key-access'
import { type IssuedKey, verifiedAccess } from '../../support/keys'

let h: Harness
let key: string
let k: IssuedKey
const current = withKeyAccess((f) => ({ h, root: key, k } = f))

describe('keys.removeRoles', () => {
  let editorId: string
  beforeEach(async () => {
    editorId = await createEditorViewerAuditor(h, key)
  })

  test('removeRoles detaches roles and returns the rest; verification loses their permissions', async () => {
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor', 'viewer'] }, key)
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['documents.read', 'documents.write'])
    const res = await h.call('/v2/keys.removeRoles', { keyId: k.keyId, roles: [editorId, 'auditor'] }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: [{ id: ROLE_ID, name: 'viewer', permissions: [{ id: PERMISSION_ID, name: 'documents.read', slug: 'documents.read' }] }],
    })
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read'], roles: ['viewer'] })
  })

  test('role changes leave direct permissions alone', async () => {
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['users.read'] }, key)
    await h.ok('keys.setRoles', { keyId: k.keyId, roles: ['viewer'] }, key)
    await h.ok('keys.removeRoles', { keyId: k.keyId, roles: ['viewer'] }, key)
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['users.read'], roles: [] })
  })
})

describeKeyAccessErrors(current, {
  rpc: 'keys.removeRoles',
  body: { roles: ['editor'] },
  invalid: [
    [(keyId) => ({ keyId, roles: [] }), 'body.roles', 'Expected array length to be greater or equal to 1'],
    [(keyId) => ({ keyId }), 'body.roles', "Property 'roles' is missing"],
  ],
  namesUnknownRole: true,
})
