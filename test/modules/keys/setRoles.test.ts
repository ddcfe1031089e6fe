// keys.setRoles: makes a key's roles exactly the given ones; an empty list
// clears them.
import { beforeEach, describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { createEditorViewerAuditor, describeKeyAccessErrors, many, withKeyAccess } from '../../support/key-access'
import { type IssuedKey, verifiedAccess } from '../../support/keys'

let h: Harness
let key: string
let k: IssuedKey
const current = withKeyAccess((f) => ({ h, root: key, k } = f))

describe('keys.setRoles', () => {
  beforeEach(async () => {
    await createEditorViewerAuditor(h, key)
  })

  test('setRoles replaces the roles; an empty list clears them', async () => {
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    expect((await verifiedAccess(h, k.key)).roles).toEqual(['editor'])
    const data = await h.ok('keys.setRoles', { keyId: k.keyId, roles: ['viewer', 'auditor'] }, key)
    expect(data.map((r: any) => r.name)).toEqual(['auditor', 'viewer'])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read'], roles: ['auditor', 'viewer'] })
    expect(await h.ok('keys.setRoles', { keyId: k.keyId, roles: [] }, key)).toEqual([])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: [], roles: [] })
  })
})

describeKeyAccessErrors(current, {
  rpc: 'keys.setRoles',
  body: { roles: ['editor'] },
  invalid: [
    [(keyId) => ({ keyId, roles: many(101, (i) => `r${i}`) }), 'body.roles', 'Expected array length to be less or equal to 100'],
    [(keyId) => ({ keyId, roles: 'editor' }), 'body.roles', 'Expected array'],
  ],
  namesUnknownRole: true,
})
