import { describe, expect, test } from 'bun:test'
import { type Harness, PERMISSION_ID, REQUEST_ID, ROLE_ID, withHarness } from '../../support/harness'
import { issueKey, verifiedAccess } from '../../support/keys'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

const createPermission = async (slug: string, extra: Record<string, string> = {}) =>
  (await h.ok('permissions.createPermission', { name: slug, slug, ...extra }, key)).permissionId as string
const createRole = async (name: string, permissions?: string[]) =>
  (await h.ok('permissions.createRole', { name, ...(permissions ? { permissions } : {}) }, key)).roleId as string

/** Every page of a list route, following cursors; checks the pagination contract on the way. */
async function allPages(rpc: string, body: Record<string, unknown>) {
  const pages: any[][] = []
  let cursor: string | undefined
  for (;;) {
    const res = await h.call(`/v2/${rpc}`, { ...body, ...(cursor ? { cursor } : {}) }, key)
    expect(res.status).toBe(200)
    pages.push(res.body.data)
    expect(res.body.pagination.hasMore).toBe(res.body.pagination.cursor !== undefined)
    cursor = res.body.pagination.cursor
    if (!cursor) return pages
    expect(pages.length).toBeLessThan(20)
  }
}

describe('permissions.createPermission / getPermission', () => {
  test('creates a permission; it can be read by id and by slug', async () => {
    const res = await h.call('/v2/permissions.createPermission', { name: 'Read documents', slug: 'documents.read', description: 'View only' }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { permissionId: PERMISSION_ID } })
    const id = res.body.data.permissionId
    const expected = { id, name: 'Read documents', slug: 'documents.read', description: 'View only' }
    for (const permission of [id, 'documents.read']) {
      const got = await h.call('/v2/permissions.getPermission', { permission }, key)
      expect(got.status).toBe(200)
      expect(got.body).toEqual({ meta: { requestId: REQUEST_ID }, data: expected })
    }
  })

  test('description is left out when not given (never null)', async () => {
    const id = await createPermission('documents.write')
    expect(await h.ok('permissions.getPermission', { permission: id }, key)).toEqual({ id, name: 'documents.write', slug: 'documents.write' })
  })

  test('slugs may use every allowed character; `*` is kept literally', async () => {
    const id = await createPermission('api:*.read-all_v2')
    expect((await h.ok('permissions.getPermission', { permission: 'api:*.read-all_v2' }, key)).id).toBe(id)
  })

  test('also answers under /v1', async () => {
    const res = await h.call('/v1/permissions.createPermission', { name: 'x', slug: 'x' }, key)
    expect(res.status).toBe(200)
    expect((await h.ok('permissions.getPermission', { permission: 'x' }, key)).id).toBe(res.body.data.permissionId)
  })
})

describe('permissions.listPermissions', () => {
  test('an empty workspace lists nothing, with hasMore false and no cursor', async () => {
    const res = await h.call('/v2/permissions.listPermissions', {}, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: [], pagination: { hasMore: false } })
  })

  test('pages in id order; the last page has no cursor', async () => {
    const ids = []
    for (const slug of ['a', 'b', 'c', 'd', 'e']) ids.push(await createPermission(slug))
    const pages = await allPages('permissions.listPermissions', { limit: 2 })
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1])
    const listed = pages.flat().map((p) => p.id)
    expect(listed).toEqual([...ids].sort())
    expect(pages.flat()[0]).toEqual({ id: expect.any(String), name: expect.any(String), slug: expect.any(String) })
  })

  test('exactly `limit` permissions fit on one page without a cursor', async () => {
    await createPermission('a')
    await createPermission('b')
    const res = await h.call('/v2/permissions.listPermissions', { limit: 2 }, key)
    expect(res.body.data).toHaveLength(2)
    expect(res.body.pagination).toEqual({ hasMore: false })
  })

  test('search matches name or slug, case-insensitively', async () => {
    await createPermission('documents.read')
    await h.ok('permissions.createPermission', { name: 'Billing Admin', slug: 'billing.admin' }, key)
    await createPermission('users.write')
    const slugs = async (search: string) => (await h.ok('permissions.listPermissions', { search }, key)).map((p: any) => p.slug).sort()
    expect(await slugs('DOCUMENTS')).toEqual(['documents.read'])
    expect(await slugs('billing admin')).toEqual(['billing.admin'])
    expect(await slugs('.')).toEqual(['billing.admin', 'documents.read', 'users.write'])
    expect(await slugs('%')).toEqual([])
    expect(await slugs('nothing')).toEqual([])
  })

  test('listPermissions matches id, name, slug and description, ignoring case', async () => {
    const { permissionId } = await h.ok('permissions.createPermission', { name: 'Read docs', slug: 'docs.read', description: 'Download invoices' }, key)
    await h.ok('permissions.createPermission', { name: 'Other', slug: 'other.thing' }, key)
    for (const search of ['DOWNLOAD', permissionId, 'DOCS', 'docs.READ']) {
      const page = await h.ok('permissions.listPermissions', { search }, key)
      expect([search, page.map((p: any) => p.id)]).toEqual([search, [permissionId]])
    }
  })
})

describe('permissions.deletePermission', () => {
  test('deletes by id or slug; the permission is gone afterwards', async () => {
    const id = await createPermission('a')
    await createPermission('b')
    const res = await h.call('/v2/permissions.deletePermission', { permission: id }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect((await h.call('/v2/permissions.getPermission', { permission: id }, key)).status).toBe(404)
    await h.ok('permissions.deletePermission', { permission: 'b' }, key)
    expect(await h.ok('permissions.listPermissions', {}, key)).toEqual([])
  })

  test('detaches it from keys and roles; verification sees that at once', async () => {
    const roleId = await createRole('editor', ['documents.read', 'documents.write'])
    const k = await issueKey(h, 'acme', { permissions: ['documents.read', 'users.read'], roles: ['editor'] })
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'documents.write', 'users.read'], roles: ['editor'] })

    await h.ok('permissions.deletePermission', { permission: 'documents.read' }, key)
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.write', 'users.read'], roles: ['editor'] })
    expect((await h.ok('permissions.getRole', { role: roleId }, key)).permissions.map((p: any) => p.slug)).toEqual(['documents.write'])
    expect(
      h.db.query('SELECT COUNT(*) AS n FROM keys_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE p.slug = ?').get('documents.read'),
    ).toEqual({ n: 0 })
  })
})

describe('permissions.createRole / getRole', () => {
  test('creates a role with a description and permissions, creating unknown slugs', async () => {
    const existing = await createPermission('documents.read', { description: 'View' })
    const res = await h.call(
      '/v2/permissions.createRole',
      { name: 'editor', description: 'Edits documents', permissions: ['documents.write', 'documents.read', 'documents.write'] },
      key,
    )
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: { roleId: ROLE_ID } })
    const roleId = res.body.data.roleId
    const created = await h.ok('permissions.getPermission', { permission: 'documents.write' }, key)
    expect(created).toEqual({ id: PERMISSION_ID, name: 'documents.write', slug: 'documents.write' })

    const expected = {
      id: roleId,
      name: 'editor',
      description: 'Edits documents',
      permissions: [
        { id: existing, name: 'documents.read', slug: 'documents.read', description: 'View' },
        { id: created.id, name: 'documents.write', slug: 'documents.write' },
      ],
    }
    for (const role of [roleId, 'editor']) {
      const got = await h.call('/v2/permissions.getRole', { role }, key)
      expect(got.status).toBe(200)
      expect(got.body).toEqual({ meta: { requestId: REQUEST_ID }, data: expected })
    }
  })

  test('a role without permissions or description leaves both out', async () => {
    const roleId = await createRole('viewer')
    expect(await h.ok('permissions.getRole', { role: 'viewer' }, key)).toEqual({ id: roleId, name: 'viewer' })
    const withEmpty = await createRole('nobody', [])
    expect(await h.ok('permissions.getRole', { role: withEmpty }, key)).toEqual({ id: withEmpty, name: 'nobody' })
  })

  test('slugs that differ only in case count once', async () => {
    const { roleId } = await h.ok('permissions.createRole', { name: 'r2', permissions: ['x.y', 'X.Y', 'a.b'] }, key)
    const role = await h.ok('permissions.getRole', { role: roleId }, key)
    expect(role.permissions.map((p: any) => p.slug)).toEqual(['a.b', 'x.y'])
  })
})

describe('permissions.listRoles', () => {
  test('pages in id order with each role’s permissions; search filters by name', async () => {
    const ids = [await createRole('admin', ['a', 'b']), await createRole('Support Agent'), await createRole('support-lead', ['c'])]
    const pages = await allPages('permissions.listRoles', { limit: 2 })
    expect(pages.map((p) => p.length)).toEqual([2, 1])
    const roles = pages.flat()
    expect(roles.map((r) => r.id)).toEqual([...ids].sort())
    expect(roles.find((r) => r.name === 'admin').permissions.map((p: any) => p.slug)).toEqual(['a', 'b'])
    expect(roles.find((r) => r.name === 'Support Agent')).toEqual({ id: ids[1], name: 'Support Agent' })

    const found = await h.ok('permissions.listRoles', { search: 'SUPPORT' }, key)
    expect(found.map((r: any) => r.name).sort()).toEqual(['Support Agent', 'support-lead'])
    expect(await h.call('/v2/permissions.listRoles', { search: 'zzz' }, key)).toMatchObject({
      status: 200,
      body: { data: [], pagination: { hasMore: false } },
    })
  })

  test('listRoles matches id, name and description, ignoring case', async () => {
    const { roleId } = await h.ok('permissions.createRole', { name: 'finance', description: 'Billing staff' }, key)
    await h.ok('permissions.createRole', { name: 'support' }, key)
    for (const search of ['BILLING', roleId, 'FIN']) {
      const page = await h.ok('permissions.listRoles', { search }, key)
      expect([search, page.map((r: any) => r.id)]).toEqual([search, [roleId]])
    }
  })
})

describe('permissions.deleteRole', () => {
  test('deletes by name or id, takes it from keys at once, and keeps its permissions', async () => {
    const roleId = await createRole('editor', ['documents.write'])
    await createRole('viewer', ['documents.read'])
    const k = await issueKey(h, 'acme', { roles: ['editor', 'viewer'] })
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'documents.write'], roles: ['editor', 'viewer'] })

    const res = await h.call('/v2/permissions.deleteRole', { role: 'editor' }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read'], roles: ['viewer'] })
    expect((await h.call('/v2/permissions.getRole', { role: roleId }, key)).status).toBe(404)
    expect((await h.ok('permissions.getPermission', { permission: 'documents.write' }, key)).slug).toBe('documents.write')

    await h.ok('permissions.deleteRole', { role: (await h.ok('permissions.getRole', { role: 'viewer' }, key)).id }, key)
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: [], roles: [] })
  })

  test('a new role may take the name of a deleted one', async () => {
    await createRole('editor')
    await h.ok('permissions.deleteRole', { role: 'editor' }, key)
    expect(await createRole('editor')).toEqual(ROLE_ID)
  })
})

describe('permissions.setRolePermissions', () => {
  test('replaces the role’s permissions (creating unknown slugs) and returns them sorted by slug', async () => {
    const roleId = await createRole('editor', ['a', 'b'])
    const res = await h.call('/v2/permissions.setRolePermissions', { roleId, permissions: ['c', 'b', 'c'] }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: [
        { id: PERMISSION_ID, name: 'b', slug: 'b' },
        { id: PERMISSION_ID, name: 'c', slug: 'c' },
      ],
    })
    expect((await h.ok('permissions.getRole', { role: roleId }, key)).permissions.map((p: any) => p.slug)).toEqual(['b', 'c'])
    // The dropped permission still exists; it is only no longer part of the role.
    expect((await h.ok('permissions.getPermission', { permission: 'a' }, key)).slug).toBe('a')
  })

  test('accepts the role name; an empty list clears', async () => {
    await createRole('editor', ['a'])
    expect(await h.ok('permissions.setRolePermissions', { roleId: 'editor', permissions: [] }, key)).toEqual([])
    expect(await h.ok('permissions.getRole', { role: 'editor' }, key)).toEqual({ id: ROLE_ID, name: 'editor' })
  })

  test('keys holding the role verify with the new permissions at once', async () => {
    const roleId = await createRole('editor', ['documents.read'])
    const k = await issueKey(h, 'acme', { roles: ['editor'] })
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['documents.read'])
    await h.ok('permissions.setRolePermissions', { roleId, permissions: ['documents.write'] }, key)
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.write'], roles: ['editor'] })
  })
})

describe('workspaces are isolated', () => {
  test('the same slug and role name can exist in two workspaces; lists show only their own', async () => {
    const other = await h.rootKey('other')
    await createPermission('documents.read')
    await createRole('editor', ['documents.read'])
    expect((await h.call('/v2/permissions.createPermission', { name: 'd', slug: 'documents.read' }, other)).status).toBe(200)
    expect((await h.call('/v2/permissions.createRole', { name: 'editor' }, other)).status).toBe(200)
    const mine = await h.ok('permissions.listPermissions', {}, key)
    const theirs = await h.ok('permissions.listPermissions', {}, other)
    expect(mine).toHaveLength(1)
    expect(theirs).toHaveLength(1)
    expect(mine[0].id).not.toBe(theirs[0].id)
    expect((await h.ok('permissions.getRole', { role: 'editor' }, other)).permissions).toBeUndefined()
  })

  test('a role or permission of another workspace is a 404 by id', async () => {
    const other = await h.rootKey('other')
    const permissionId = await createPermission('documents.read')
    const roleId = await createRole('editor')
    expect((await h.call('/v2/permissions.getPermission', { permission: permissionId }, other)).status).toBe(404)
    expect((await h.call('/v2/permissions.deletePermission', { permission: permissionId }, other)).status).toBe(404)
    expect((await h.call('/v2/permissions.getRole', { role: roleId }, other)).status).toBe(404)
    expect((await h.call('/v2/permissions.deleteRole', { role: roleId }, other)).status).toBe(404)
    expect((await h.call('/v2/permissions.setRolePermissions', { roleId, permissions: ['x'] }, other)).status).toBe(404)
    expect((await h.ok('permissions.getRole', { role: roleId }, key)).permissions).toBeUndefined()
  })
})
