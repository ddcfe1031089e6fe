import { describe, expect, test } from 'bun:test'
import { forbiddenBody, Harness, notFoundBody } from '../../support/harness'
import { describeSecurity } from '../../support/security'

const permissionMissing = notFoundBody('permission', 'The requested permission does not exist.')
const roleMissing = notFoundBody('role', 'The requested role does not exist.')

const withPermission = async (h: Harness, admin: string) => {
  await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read' }, admin)
  return { body: { permission: 'documents.read' } }
}
const withRole = async (h: Harness, admin: string) => {
  await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.read'] }, admin)
  return { body: { role: 'editor' } }
}

describeSecurity({
  rpc: 'permissions.createPermission',
  setup: async () => ({ body: { name: 'Read', slug: 'documents.read' } }),
  allowed: [['*'], ['rbac.*.create_permission']],
  denied: [
    { grants: ['ratelimit.*.limit'], missing: ['rbac.*.create_permission'] },
    { grants: ['rbac.*.read_permission', 'rbac.*.create_role'], missing: ['rbac.*.create_permission'] },
    { grants: ['api.*.create_api'], missing: ['rbac.*.create_permission'] },
  ],
  // Another workspace creates its own permission with that slug.
  otherWorkspaceStatus: 200,
})

for (const [rpc, action] of [
  ['permissions.getPermission', 'read_permission'],
  ['permissions.deletePermission', 'delete_permission'],
] as const) {
  describeSecurity({
    rpc,
    setup: withPermission,
    allowed: [['*'], [`rbac.*.${action}`]],
    denied: [
      { grants: ['ratelimit.*.limit'], missing: [`rbac.*.${action}`] },
      { grants: [action === 'read_permission' ? 'rbac.*.delete_permission' : 'rbac.*.read_permission'], missing: [`rbac.*.${action}`] },
      { grants: ['rbac.*.read_role', 'rbac.*.delete_role'], missing: [`rbac.*.${action}`] },
    ],
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: permissionMissing,
  })
}

describeSecurity({
  rpc: 'permissions.listPermissions',
  setup: async (h, admin) => {
    await withPermission(h, admin)
    return { body: {} }
  },
  allowed: [['*'], ['rbac.*.read_permission']],
  denied: [
    { grants: ['rbac.*.read_role'], missing: ['rbac.*.read_permission'] },
    { grants: ['api.*.read_api'], missing: ['rbac.*.read_permission'] },
  ],
  // Another workspace lists its own (empty) set.
  otherWorkspaceStatus: 200,
})

describeSecurity({
  rpc: 'permissions.createRole',
  setup: async () => ({ body: { name: 'viewer' } }),
  allowed: [['*'], ['rbac.*.create_role']],
  denied: [
    { grants: ['ratelimit.*.limit'], missing: ['rbac.*.create_role'] },
    { grants: ['rbac.*.create_permission', 'rbac.*.add_permission_to_role'], missing: ['rbac.*.create_role'] },
  ],
  otherWorkspaceStatus: 200,
})

describeSecurity({
  rpc: 'permissions.createRole',
  // With existing permissions: add_permission_to_role is needed as well.
  setup: async (h, admin) => {
    await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read' }, admin)
    return { body: { name: 'viewer', permissions: ['documents.read'] } }
  },
  allowed: [['*'], ['rbac.*.create_role', 'rbac.*.add_permission_to_role']],
  denied: [
    { grants: ['rbac.*.create_role'], missing: ['rbac.*.add_permission_to_role'] },
    { grants: ['rbac.*.add_permission_to_role'], missing: ['rbac.*.create_role'] },
  ],
  otherWorkspaceStatus: 200,
})

describeSecurity({
  rpc: 'permissions.createRole',
  // With a slug that does not exist yet: create_permission is needed as well.
  setup: async (h, admin) => {
    await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read' }, admin)
    return { body: { name: 'viewer', permissions: ['documents.read', 'documents.new'] } }
  },
  allowed: [['*'], ['rbac.*.create_role', 'rbac.*.add_permission_to_role', 'rbac.*.create_permission']],
  denied: [
    { grants: ['rbac.*.create_role', 'rbac.*.add_permission_to_role'], missing: ['rbac.*.create_permission'] },
    { grants: ['rbac.*.create_role', 'rbac.*.create_permission'], missing: ['rbac.*.add_permission_to_role'] },
  ],
  otherWorkspaceStatus: 200,
})

for (const [rpc, action] of [
  ['permissions.getRole', 'read_role'],
  ['permissions.deleteRole', 'delete_role'],
] as const) {
  describeSecurity({
    rpc,
    setup: withRole,
    allowed: [['*'], [`rbac.*.${action}`]],
    denied: [
      { grants: ['ratelimit.*.limit'], missing: [`rbac.*.${action}`] },
      { grants: ['rbac.*.read_permission', 'rbac.*.delete_permission'], missing: [`rbac.*.${action}`] },
    ],
    otherWorkspaceStatus: 404,
    otherWorkspaceBody: roleMissing,
  })
}

describeSecurity({
  rpc: 'permissions.listRoles',
  setup: async (h, admin) => {
    await withRole(h, admin)
    return { body: {} }
  },
  allowed: [['*'], ['rbac.*.read_role']],
  denied: [{ grants: ['rbac.*.read_permission'], missing: ['rbac.*.read_role'] }],
  otherWorkspaceStatus: 200,
})

describeSecurity({
  rpc: 'permissions.setRolePermissions',
  setup: async (h, admin) => {
    await withRole(h, admin)
    await h.ok('permissions.createPermission', { name: 'Write', slug: 'documents.write' }, admin)
    return { body: { roleId: 'editor', permissions: ['documents.write'] } }
  },
  allowed: [['*'], ['rbac.*.add_permission_to_role', 'rbac.*.remove_permission_from_role']],
  denied: [
    { grants: ['ratelimit.*.limit'], missing: ['rbac.*.add_permission_to_role'] },
    { grants: ['rbac.*.add_permission_to_role'], missing: ['rbac.*.remove_permission_from_role'] },
    { grants: ['rbac.*.remove_permission_from_role', 'rbac.*.update_role'], missing: ['rbac.*.add_permission_to_role'] },
  ],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: roleMissing,
})

describeSecurity({
  rpc: 'permissions.setRolePermissions',
  // A slug that does not exist yet also needs create_permission.
  setup: async (h, admin) => {
    await withRole(h, admin)
    return { body: { roleId: 'editor', permissions: ['documents.read', 'documents.new'] } }
  },
  allowed: [['*'], ['rbac.*.add_permission_to_role', 'rbac.*.remove_permission_from_role', 'rbac.*.create_permission']],
  denied: [{ grants: ['rbac.*.add_permission_to_role', 'rbac.*.remove_permission_from_role'], missing: ['rbac.*.create_permission'] }],
  otherWorkspaceStatus: 404,
  otherWorkspaceBody: roleMissing,
})

describe('refusals leave nothing behind', () => {
  test('createRole without create_permission creates neither the role nor the slug', async () => {
    const h = new Harness()
    const key = await h.rootKey('acme', ['rbac.*.create_role', 'rbac.*.add_permission_to_role'])
    const res = await h.call('/v2/permissions.createRole', { name: 'viewer', permissions: ['documents.new'] }, key)
    expect(res.body).toEqual(forbiddenBody(['rbac.*.create_permission']))
    expect(await h.query('SELECT (SELECT COUNT(*) FROM roles) + (SELECT COUNT(*) FROM permissions) AS n')).toEqual([{ n: 0 }])
    await h.close()
  })

  test('a slug that became unknown after the permission check is still refused, inside the transaction', async () => {
    const h = new Harness()
    const admin = await h.rootKey('acme')
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.read'] }, admin)
    const key = await h.rootKey('acme', ['rbac.*.add_permission_to_role', 'rbac.*.remove_permission_from_role'])
    // Simulates a deletion that lands between the macro's check and the handler.
    const rbac = h.services.permissions
    const original = rbac.unknownSlugs.bind(rbac)
    let calls = 0
    rbac.unknownSlugs = async (ws, slugs) => (calls++ === 0 ? [] : original(ws, slugs))
    await h.ok('permissions.deletePermission', { permission: 'documents.read' }, admin)
    const res = await h.call('/v2/permissions.setRolePermissions', { roleId: 'editor', permissions: ['documents.read'] }, key)
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['rbac.*.create_permission']))
    expect(await h.query('SELECT COUNT(*) AS n FROM permissions')).toEqual([{ n: 0 }])
    await h.close()
  })
})
