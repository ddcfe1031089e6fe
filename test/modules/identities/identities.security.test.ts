import { describe, expect, test } from 'bun:test'
import { Harness, notFoundBody } from '../../support/harness'
import { describeSecurity } from '../../support/security'

const identityMissing = notFoundBody('identity', 'This identity does not exist.')

/** An identity with externalId `user_1` in workspace `ws`; `{identityId}` is its id. */
async function withIdentity(h: Harness, admin: string, body: (identityId: string) => Record<string, unknown>) {
  const { identityId } = await h.ok('identities.createIdentity', { externalId: 'user_1' }, admin)
  return { body: body(identityId), vars: { identityId } }
}

describeSecurity({
  rpc: 'identities.createIdentity',
  setup: async () => ({ body: { externalId: 'user_1' } }),
  allowed: [['*'], ['identity.*.create_identity']],
  denied: [
    { grants: ['identity.*.read_identity', 'identity.*.update_identity'], missing: ['identity.*.create_identity'] },
    { grants: ['api.*.create_key'], missing: ['identity.*.create_identity'] },
  ],
  // Another workspace creates its own identity with that externalId.
  otherWorkspaceStatus: 200,
})

describeSecurity({
  rpc: 'identities.getIdentity',
  setup: (h, admin) => withIdentity(h, admin, () => ({ identity: 'user_1' })),
  allowed: [['*'], ['identity.*.read_identity'], ['identity.{identityId}.read_identity']],
  denied: [
    { grants: ['identity.*.update_identity'], missing: ['identity.*.read_identity', 'identity.{identityId}.read_identity'] },
    { grants: ['identity.id_someoneelse.read_identity'], missing: ['identity.*.read_identity', 'identity.{identityId}.read_identity'] },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: identityMissing,
})

describeSecurity({
  rpc: 'identities.listIdentities',
  setup: (h, admin) => withIdentity(h, admin, () => ({})),
  // A grant for each listed identity is as good as the wildcard.
  allowed: [['*'], ['identity.*.read_identity'], ['identity.{identityId}.read_identity']],
  denied: [
    { grants: ['identity.id_someoneelse.read_identity'], missing: ['identity.*.read_identity', 'identity.{identityId}.read_identity'] },
    { grants: ['identity.*.create_identity'], missing: ['identity.*.read_identity'] },
  ],
  otherWorkspaceStatus: 200,
})

for (const action of ['update_identity', 'delete_identity'] as const) {
  describeSecurity({
    rpc: action === 'update_identity' ? 'identities.updateIdentity' : 'identities.deleteIdentity',
    setup: (h, admin) => withIdentity(h, admin, (identityId) => ({ identity: identityId })),
    allowed: [['*'], [`identity.*.${action}`]],
    denied: [
      { grants: ['identity.*.read_identity'], missing: [`identity.*.${action}`] },
      { grants: [action === 'update_identity' ? 'identity.*.delete_identity' : 'identity.*.update_identity'], missing: [`identity.*.${action}`] },
    ],
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: identityMissing,
  })
}

describe('getIdentity with a grant for one identity', () => {
  test('reads that identity (by id or externalId) but not another; an unknown one is a 404', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const { identityId } = await h.ok('identities.createIdentity', { externalId: 'user_1' }, admin)
    await h.ok('identities.createIdentity', { externalId: 'user_2' }, admin)
    const key = await h.rootKey('ws', [`identity.${identityId}.read_identity`])
    expect((await h.call('/v2/identities.getIdentity', { identity: 'user_1' }, key)).status).toBe(200)
    expect((await h.call('/v2/identities.getIdentity', { identity: identityId }, key)).status).toBe(200)
    expect((await h.call('/v2/identities.getIdentity', { identity: 'user_2' }, key)).status).toBe(403)
    const unknown = await h.call('/v2/identities.getIdentity', { identity: 'nobody' }, key)
    expect(unknown.status).toBe(404)
    expect(unknown.body).toEqual(identityMissing)
    await h.close()
  })
})

describe('listIdentities with grants for some identities', () => {
  test('every identity on the page must be readable; search can narrow the page to those', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const a = await h.ok('identities.createIdentity', { externalId: 'alpha' }, admin)
    const b = await h.ok('identities.createIdentity', { externalId: 'beta' }, admin)
    const onlyA = await h.rootKey('ws', [`identity.${a.identityId}.read_identity`])
    const all = await h.call('/v2/identities.listIdentities', {}, onlyA)
    expect(all.status).toBe(403)
    expect(all.body.error.detail).toBe(`Your key does not have the required 'identity.*.read_identity' or 'identity.${b.identityId}.read_identity' permission`)
    const narrowed = await h.call('/v2/identities.listIdentities', { search: 'alpha' }, onlyA)
    expect(narrowed.status).toBe(200)
    expect(narrowed.body.data.map((i: any) => i.id)).toEqual([a.identityId])
    await h.close()
  })
})
