// keys.addRoles: attaches roles by name or id; idempotent; verification gains
// their permissions at once.
import { beforeEach, describe, expect, test } from 'bun:test'
import { type Harness, notFoundBody, PERMISSION_ID, REQUEST_ID, ROLE_ID } from '../../support/harness'
import { createEditorViewerAuditor, describeKeyAccessErrors, withKeyAccess } from '../../support/key-access'
import { type IssuedKey, verifiedAccess } from '../../support/keys'

let h: Harness
let key: string
let k: IssuedKey
const current = withKeyAccess((f) => ({ h, root: key, k } = f))

describe('keys.addRoles', () => {
  let editorId: string
  beforeEach(async () => {
    editorId = await createEditorViewerAuditor(h, key)
  })

  test('addRoles attaches roles by name or id and returns all of them with their permissions, sorted by name', async () => {
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: [], roles: [] })
    const res = await h.call('/v2/keys.addRoles', { keyId: k.keyId, roles: [editorId, 'auditor'] }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: [
        { id: ROLE_ID, name: 'auditor' },
        {
          id: editorId,
          name: 'editor',
          description: 'Edits',
          permissions: [
            { id: PERMISSION_ID, name: 'documents.read', slug: 'documents.read' },
            { id: PERMISSION_ID, name: 'documents.write', slug: 'documents.write' },
          ],
        },
      ],
    })
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'documents.write'], roles: ['auditor', 'editor'] })
    // Idempotent.
    const again = await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor', 'editor', 'viewer'] }, key)
    expect(again.map((r: any) => r.name)).toEqual(['auditor', 'editor', 'viewer'])
  })
})

describe('keys.addRoles errors', () => {
  test('a role of another workspace counts as unknown', async () => {
    const other = await h.rootKey('other')
    await h.ok('permissions.createRole', { name: 'foreign', permissions: ['foreign.perm'] }, other)
    const res = await h.call('/v2/keys.addRoles', { keyId: k.keyId, roles: ['foreign'] }, key)
    expect(res.body).toEqual(notFoundBody('role', "Role 'foreign' was not found."))
  })
})

describeKeyAccessErrors(current, {
  rpc: 'keys.addRoles',
  body: { roles: ['editor'] },
  invalid: [
    [(keyId) => ({ keyId, roles: [] }), 'body.roles', 'Expected array length to be greater or equal to 1'],
    [(keyId) => ({ keyId, roles: [''] }), 'body.roles[0]', 'Expected string length greater or equal to 1'],
    [(keyId) => ({ keyId, roles: ['x'.repeat(129)] }), 'body.roles[0]', 'Expected string length less or equal to 128'],
  ],
  namesUnknownRole: true,
})
