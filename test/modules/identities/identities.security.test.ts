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
  // A grant for one identity lists that identity alone: a grant for another
  // lists nothing (an empty 200, never a 403 that would reveal user_1).
  allowed: [['*'], ['identity.*.read_identity'], ['identity.{identityId}.read_identity'], ['identity.id_someoneelse.read_identity']],
  denied: [{ grants: ['identity.*.create_identity'], missing: ['identity.*.read_identity'] }],
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
  const ids = (res: { body: any }) => res.body.data.map((i: any) => i.id)

  test('lists only the identities granted, never a 403 for the others; search narrows within them', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const a = await h.ok('identities.createIdentity', { externalId: 'alpha' }, admin)
    await h.ok('identities.createIdentity', { externalId: 'beta' }, admin)
    const onlyA = await h.rootKey('ws', [`identity.${a.identityId}.read_identity`])
    const all = await h.call('/v2/identities.listIdentities', {}, onlyA)
    expect(all.status).toBe(200)
    expect(ids(all)).toEqual([a.identityId])
    const narrowed = await h.call('/v2/identities.listIdentities', { search: 'alpha' }, onlyA)
    expect(narrowed.status).toBe(200)
    expect(ids(narrowed)).toEqual([a.identityId])
    expect(ids(await h.call('/v2/identities.listIdentities', { search: 'beta' }, onlyA))).toEqual([])
    await h.close()
  })

  test('probing search prefixes recovers nothing of an identity the key may not read', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const mine = await h.ok('identities.createIdentity', { externalId: 'user_mine' }, admin)
    await h.ok('identities.createIdentity', { externalId: 'secret_customer_42' }, admin)
    const key = await h.rootKey('ws', [`identity.${mine.identityId}.read_identity`])
    // The attack: extend a prefix while the answer differs from that of a search matching nothing.
    // Every probe must answer exactly as it would if the other identity did not exist.
    const expected = (probe: string) => ('user_mine'.includes(probe) || mine.identityId.toLowerCase().includes(probe) ? [mine.identityId] : [])
    for (const probe of ['s', 'se', 'sec', 'secret', 'secret_customer_4', 'secret_customer_42', 'x', 'customer', '42', 'user']) {
      const res = await h.call('/v2/identities.listIdentities', { search: probe }, key)
      expect([probe, res.status, ids(res)]).toEqual([probe, 200, expected(probe)])
    }
    await h.close()
  })

  test('a key with grants on two identities lists exactly those two, across pages', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const created: string[] = []
    for (const externalId of ['one', 'two', 'three', 'four']) created.push((await h.ok('identities.createIdentity', { externalId }, admin)).identityId)
    const granted = [created[1]!, created[3]!]
    const key = await h.rootKey(
      'ws',
      granted.map((id) => `identity.${id}.read_identity`),
    )
    expect(ids(await h.call('/v2/identities.listIdentities', {}, key))).toEqual([...granted].sort())
    const first = await h.call('/v2/identities.listIdentities', { limit: 1 }, key)
    expect(first.body.pagination.hasMore).toBe(true)
    const second = await h.call('/v2/identities.listIdentities', { limit: 1, cursor: first.body.pagination.cursor }, key)
    expect(second.body.pagination).toEqual({ hasMore: false })
    expect([...ids(first), ...ids(second)]).toEqual([...granted].sort())
    await h.close()
  })

  test('the wildcard still lists every identity', async () => {
    const h = new Harness()
    const admin = await h.rootKey('ws')
    const created: string[] = []
    for (const externalId of ['one', 'two', 'three']) created.push((await h.ok('identities.createIdentity', { externalId }, admin)).identityId)
    const one = `identity.${created[0]}.read_identity`
    for (const grants of [['identity.*.read_identity'], ['identity.*.read_identity', one], ['*']]) {
      const key = await h.rootKey('ws', grants)
      expect(ids(await h.call('/v2/identities.listIdentities', {}, key))).toEqual([...created].sort())
    }
    await h.close()
  })
})
