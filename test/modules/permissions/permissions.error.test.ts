import { describe, expect, test } from 'bun:test'
import { errorBody, forbiddenBody, type Harness, notFoundBody, invalidBody, withHarness } from '../../support/harness'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

const SLUG_PATTERN = "Expected string to match '^[a-zA-Z0-9_:\\-\\.\\*]+$'"

describe('validation (400 names the field)', () => {
  test.each<[string, unknown, string, string]>([
    ['permissions.createPermission', { slug: 'a' }, 'body.name', "Property 'name' is missing"],
    ['permissions.createPermission', { name: 'a' }, 'body.slug', "Property 'slug' is missing"],
    ['permissions.createPermission', { name: '', slug: 'a' }, 'body.name', 'Expected string length greater or equal to 1'],
    ['permissions.createPermission', { name: 'x'.repeat(513), slug: 'a' }, 'body.name', 'Expected string length less or equal to 512'],
    ['permissions.createPermission', { name: 'a', slug: 'has space' }, 'body.slug', SLUG_PATTERN],
    ['permissions.createPermission', { name: 'a', slug: 'files/read' }, 'body.slug', SLUG_PATTERN],
    ['permissions.createPermission', { name: 'a', slug: 'x'.repeat(129) }, 'body.slug', 'Expected string length less or equal to 128'],
    ['permissions.createPermission', { name: 'a', slug: 'a', description: 'x'.repeat(513) }, 'body.description', 'Expected string length less or equal to 512'],
    ['permissions.createPermission', { name: 'a', slug: 'a', extra: 1 }, 'body.extra', "Property 'extra' should not be provided"],
    ['permissions.getPermission', {}, 'body.permission', "Property 'permission' is missing"],
    ['permissions.getPermission', { permission: '' }, 'body.permission', 'Expected string length greater or equal to 1'],
    ['permissions.deletePermission', { permission: 'a b' }, 'body.permission', SLUG_PATTERN],
    ['permissions.listPermissions', { limit: 0 }, 'body.limit', 'Expected integer to be greater or equal to 1'],
    ['permissions.listPermissions', { limit: 101 }, 'body.limit', 'Expected integer to be less or equal to 100'],
    ['permissions.listPermissions', { limit: '5' }, 'body.limit', 'Expected integer'],
    ['permissions.listPermissions', { search: 'x'.repeat(257) }, 'body.search', 'Expected string length less or equal to 256'],
    ['permissions.listPermissions', { cursor: 'x'.repeat(1025) }, 'body.cursor', 'Expected string length less or equal to 1024'],
    ['permissions.createRole', { name: '' }, 'body.name', 'Expected string length greater or equal to 1'],
    ['permissions.createRole', { name: 'x'.repeat(129) }, 'body.name', 'Expected string length less or equal to 128'],
    ['permissions.createRole', { name: 'r', permissions: ['ok', 'not ok'] }, 'body.permissions[1]', SLUG_PATTERN],
    ['permissions.createRole', { name: 'r', permissions: 'a' }, 'body.permissions', 'Expected array'],
    ['permissions.getRole', { role: '' }, 'body.role', 'Expected string length greater or equal to 1'],
    ['permissions.deleteRole', { role: 'x'.repeat(129) }, 'body.role', 'Expected string length less or equal to 128'],
    ['permissions.listRoles', { limit: 1.5 }, 'body.limit', 'Expected integer'],
    ['permissions.setRolePermissions', { permissions: [] }, 'body.roleId', "Property 'roleId' is missing"],
    ['permissions.setRolePermissions', { roleId: 'ab', permissions: [] }, 'body.roleId', 'Expected string length greater or equal to 3'],
    ['permissions.setRolePermissions', { roleId: 'role.x', permissions: [] }, 'body.roleId', "Expected string to match '^[a-zA-Z0-9_-]+$'"],
    ['permissions.setRolePermissions', { roleId: 'role_1' }, 'body.permissions', "Property 'permissions' is missing"],
    ['permissions.setRolePermissions', { roleId: 'role_1', permissions: [''] }, 'body.permissions[0]', 'Expected string length greater or equal to 1'],
  ])('%s %j is a 400', async (rpc, body, location, message) => {
    const res = await h.call(`/v2/${rpc}`, body, key)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(invalidBody(rpc, location, message))
  })

  test('nothing is written when validation fails', async () => {
    await h.call('/v2/permissions.createRole', { name: 'r', permissions: ['ok', 'not ok'] }, key)
    expect(h.db.query('SELECT (SELECT COUNT(*) FROM roles) + (SELECT COUNT(*) FROM permissions) AS n').get()).toEqual({ n: 0 })
  })

  test('body validation comes before the permission check', async () => {
    const res = await h.call('/v2/permissions.createPermission', { name: 'a' }, await h.rootKey('acme', ['api.*.read_api']))
    expect(res.status).toBe(400)
  })

  test('a body that is not JSON is a 400', async () => {
    const res = await h.call('/v2/permissions.createRole', '{"name":', key)
    expect(res.status).toBe(400)
    expect(res.body.error.type).toBe('https://unkey.com/docs/errors/user/bad_request/request_body_unreadable')
  })
})

describe('404', () => {
  const permissionMissing = notFoundBody('permission', 'The requested permission does not exist.')
  const roleMissing = notFoundBody('role', 'The requested role does not exist.')

  test.each<[string, unknown, unknown]>([
    ['permissions.getPermission', { permission: 'perm_doesnotexist' }, permissionMissing],
    ['permissions.getPermission', { permission: 'documents.read' }, permissionMissing],
    ['permissions.deletePermission', { permission: 'documents.read' }, permissionMissing],
    ['permissions.getRole', { role: 'role_doesnotexist' }, roleMissing],
    ['permissions.getRole', { role: 'editor' }, roleMissing],
    ['permissions.deleteRole', { role: 'editor' }, roleMissing],
    ['permissions.setRolePermissions', { roleId: 'editor', permissions: ['a'] }, roleMissing],
  ])('%s %j', async (rpc, body, expected) => {
    const res = await h.call(`/v2/${rpc}`, body, key)
    expect(res.status).toBe(404)
    expect(res.body).toEqual(expected)
  })

  test('setRolePermissions on a missing role creates no permission', async () => {
    await h.call('/v2/permissions.setRolePermissions', { roleId: 'editor', permissions: ['brand.new'] }, key)
    expect(h.db.query('SELECT COUNT(*) AS n FROM permissions').get()).toEqual({ n: 0 })
  })

  test('a second delete is a 404', async () => {
    await h.ok('permissions.createPermission', { name: 'a', slug: 'a' }, key)
    await h.ok('permissions.deletePermission', { permission: 'a' }, key)
    expect((await h.call('/v2/permissions.deletePermission', { permission: 'a' }, key)).body).toEqual(permissionMissing)
    await h.ok('permissions.createRole', { name: 'r' }, key)
    await h.ok('permissions.deleteRole', { role: 'r' }, key)
    expect((await h.call('/v2/permissions.deleteRole', { role: 'r' }, key)).body).toEqual(roleMissing)
  })

  test('a missing permission check comes before the lookup (403, not 404)', async () => {
    const res = await h.call('/v2/permissions.getRole', { role: 'editor' }, await h.rootKey('acme', ['rbac.*.read_permission']))
    expect(res.status).toBe(403)
    expect(res.body).toEqual(forbiddenBody(['rbac.*.read_role']))
  })
})

describe('409', () => {
  test('a slug that exists already', async () => {
    await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read' }, key)
    const res = await h.call('/v2/permissions.createPermission', { name: 'Other name', slug: 'documents.read' }, key)
    expect(res.status).toBe(409)
    expect(res.body).toEqual(
      errorBody(
        409,
        'Conflicting Resource',
        'unkey/data/permission_already_exists',
        "A permission with slug 'documents.read' already exists in this workspace.",
      ),
    )
  })

  test('a slug created on the fly counts too', async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.write'] }, key)
    expect((await h.call('/v2/permissions.createPermission', { name: 'w', slug: 'documents.write' }, key)).status).toBe(409)
  })

  test('a role name that exists already; nothing else is created', async () => {
    await h.ok('permissions.createRole', { name: 'editor' }, key)
    const res = await h.call('/v2/permissions.createRole', { name: 'editor', permissions: ['new.slug'] }, key)
    expect(res.status).toBe(409)
    expect(res.body).toEqual(
      errorBody(409, 'Conflicting Resource', 'unkey/data/role_already_exists', "A role with name 'editor' already exists in this workspace."),
    )
    expect(h.db.query('SELECT COUNT(*) AS n FROM permissions').get()).toEqual({ n: 0 })
  })

  test('slugs and role names are case-sensitive', async () => {
    await h.ok('permissions.createPermission', { name: 'r', slug: 'Documents.Read' }, key)
    expect((await h.call('/v2/permissions.createPermission', { name: 'r', slug: 'documents.read' }, key)).status).toBe(200)
    await h.ok('permissions.createRole', { name: 'Editor' }, key)
    expect((await h.call('/v2/permissions.createRole', { name: 'editor' }, key)).status).toBe(200)
  })
})
