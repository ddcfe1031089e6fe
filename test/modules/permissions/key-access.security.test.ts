// Root-key security of keys.*Permissions / keys.*Roles: update_key on the
// key's API plus the companion rbac.* permission of each route, and
// rbac.*.create_permission when a slug is new.
import { describe, expect, test } from 'bun:test'
import { forbiddenBody, Harness, notFoundBody } from '../../support/harness'
import { describeSecurity } from '../../support/security'
import { issueKey } from './fixtures'

const keyNotFound = notFoundBody('key', 'The requested key does not exist or has been deleted.')
const updateKey = ['api.*.update_key', 'api.{apiId}.update_key']

/** A key with permission `documents.read` defined in the workspace and role `editor`. */
async function keyWithRbac(h: Harness, admin: string, body: Record<string, unknown>) {
  await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read' }, admin)
  await h.ok('permissions.createRole', { name: 'editor' }, admin)
  const k = await issueKey(h, 'ws')
  return { body: { keyId: k.keyId, ...body }, vars: { apiId: k.apiId } }
}

const routes: { rpc: string; body: Record<string, unknown>; companions: string[] }[] = [
  { rpc: 'keys.addPermissions', body: { permissions: ['documents.read'] }, companions: ['rbac.*.add_permission_to_key'] },
  { rpc: 'keys.removePermissions', body: { permissions: ['documents.read'] }, companions: ['rbac.*.remove_permission_from_key'] },
  {
    rpc: 'keys.setPermissions',
    body: { permissions: ['documents.read'] },
    companions: ['rbac.*.add_permission_to_key', 'rbac.*.remove_permission_from_key'],
  },
  { rpc: 'keys.addRoles', body: { roles: ['editor'] }, companions: ['rbac.*.add_role_to_key'] },
  // As upstream: removing and replacing roles needs update_key only.
  { rpc: 'keys.removeRoles', body: { roles: ['editor'] }, companions: [] },
  { rpc: 'keys.setRoles', body: { roles: ['editor'] }, companions: [] },
]

for (const route of routes) {
  const denied = [
    { grants: ['api.*.read_key', ...route.companions], missing: updateKey },
    { grants: ['api.api_someother1.update_key', ...route.companions], missing: updateKey },
    ...route.companions.map((missing) => ({
      grants: ['api.*.update_key', ...route.companions.filter((c) => c !== missing)],
      missing: [missing],
    })),
  ]
  describeSecurity({
    rpc: route.rpc,
    setup: (h, admin) => keyWithRbac(h, admin, route.body),
    allowed: [['*'], ['api.*.update_key', ...route.companions], ['api.{apiId}.update_key', ...route.companions]],
    denied,
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: keyNotFound,
  })
}

for (const rpc of ['keys.addPermissions', 'keys.setPermissions']) {
  const companions = rpc === 'keys.addPermissions' ? ['rbac.*.add_permission_to_key'] : ['rbac.*.add_permission_to_key', 'rbac.*.remove_permission_from_key']
  describeSecurity({
    rpc,
    // `documents.new` does not exist yet: creating it needs create_permission.
    setup: (h, admin) => keyWithRbac(h, admin, { permissions: ['documents.read', 'documents.new'] }),
    allowed: [['*'], ['api.*.update_key', ...companions, 'rbac.*.create_permission']],
    denied: [
      { grants: ['api.*.update_key', ...companions], missing: ['rbac.*.create_permission'] },
      { grants: ['api.{apiId}.update_key', ...companions, 'rbac.*.create_role'], missing: ['rbac.*.create_permission'] },
    ],
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: keyNotFound,
  })
}

describe('order and atomicity', () => {
  test('without create_permission nothing is granted or created', async () => {
    const h = new Harness()
    await h.rootKey('ws')
    const k = await issueKey(h, 'ws')
    const key = await h.rootKey('ws', ['api.*.update_key', 'rbac.*.add_permission_to_key'])
    const res = await h.call('/v2/keys.addPermissions', { keyId: k.keyId, permissions: ['documents.new'] }, key)
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['rbac.*.create_permission']))
    expect(h.db.query('SELECT (SELECT COUNT(*) FROM permissions) + (SELECT COUNT(*) FROM keys_permissions) AS n').get()).toEqual({ n: 0 })
    await h.close()
  })

  test('a missing companion permission is a 403 even for an unknown key (403 before 404)', async () => {
    const h = new Harness()
    const res = await h.call('/v2/keys.addRoles', { keyId: 'key_doesnotexist', roles: ['editor'] }, await h.rootKey('ws', ['api.*.update_key']))
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['rbac.*.add_role_to_key']))
    await h.close()
  })

  test('update_key on some API is enough to learn that an unknown key does not exist', async () => {
    const h = new Harness()
    const key = await h.rootKey('ws', ['api.api_someother1.update_key', 'rbac.*.add_role_to_key'])
    const res = await h.call('/v2/keys.addRoles', { keyId: 'key_doesnotexist', roles: ['editor'] }, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(keyNotFound)
    await h.close()
  })
})
