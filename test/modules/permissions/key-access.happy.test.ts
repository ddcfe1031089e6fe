// keys.addPermissions / removePermissions / setPermissions / addRoles /
// removeRoles / setRoles: results, idempotency, and that verification sees
// every change at once.
import { beforeEach, describe, expect, test } from 'bun:test'
import { Harness, REQUEST_ID, withHarness } from '../../support/harness'
import { issueKey, PERMISSION_ID, ROLE_ID, verifiedAccess } from './fixtures'

let h: Harness
let key: string
let k: Awaited<ReturnType<typeof issueKey>>
withHarness(async (f) => {
  ;({ h, root: key } = f)
  k = await issueKey(h)
}, 'acme')

const slugs = (permissions: { slug: string }[]) => permissions.map((p) => p.slug)

describe('keys.addPermissions', () => {
  test('grants permissions, creating unknown slugs; returns all direct permissions sorted by slug', async () => {
    const readId = (await h.ok('permissions.createPermission', { name: 'Read', slug: 'documents.read', description: 'View' }, key)).permissionId
    // Warm the verification cache, so that the test sees invalidation, not a first load.
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: [], roles: [] })

    const res = await h.call('/v2/keys.addPermissions', { keyId: k.keyId, permissions: ['documents.write', 'documents.read'] }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      meta: { requestId: REQUEST_ID },
      data: [
        { id: readId, name: 'Read', slug: 'documents.read', description: 'View' },
        { id: PERMISSION_ID, name: 'documents.write', slug: 'documents.write' },
      ],
    })
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'documents.write'], roles: [] })
  })

  test('adding is idempotent and keeps what the key had', async () => {
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['a'] }, key)
    const data = await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['b', 'a', 'b'] }, key)
    expect(slugs(data)).toEqual(['a', 'b'])
    expect(h.db.query('SELECT COUNT(*) AS n FROM permissions').get()).toEqual({ n: 2 })
  })

  test('permissions from roles are not part of the result but count for verification', async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.write'] }, key)
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    expect(slugs(await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['documents.read'] }, key))).toEqual(['documents.read'])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'documents.write'], roles: ['editor'] })
  })

  test('also answers under /v1', async () => {
    const res = await h.call('/v1/keys.addPermissions', { keyId: k.keyId, permissions: ['a'] }, key)
    expect(res.status).toBe(200)
    expect(slugs(res.body.data)).toEqual(['a'])
  })
})

describe('keys.removePermissions', () => {
  test('removes direct permissions by slug or id; roles keep granting theirs', async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['documents.read'] }, key)
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    const added = await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['documents.read', 'documents.write', 'users.read'] }, key)
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['documents.read', 'documents.write', 'users.read'])

    const writeId = added.find((p: any) => p.slug === 'documents.write').id
    const res = await h.call('/v2/keys.removePermissions', { keyId: k.keyId, permissions: ['documents.read', writeId] }, key)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ meta: { requestId: REQUEST_ID }, data: [{ id: PERMISSION_ID, name: 'users.read', slug: 'users.read' }] })
    // documents.read is still granted through the role.
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read', 'users.read'], roles: ['editor'] })
    // The permissions themselves are not deleted.
    expect(h.db.query('SELECT COUNT(*) AS n FROM permissions').get()).toEqual({ n: 3 })
  })

  test('removing a permission the key does not have is a no-op', async () => {
    await h.ok('permissions.createPermission', { name: 'x', slug: 'x' }, key)
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['a'] }, key)
    expect(slugs(await h.ok('keys.removePermissions', { keyId: k.keyId, permissions: ['x'] }, key))).toEqual(['a'])
  })
})

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
})

describe('keys.addRoles / removeRoles / setRoles', () => {
  let editorId: string
  beforeEach(async () => {
    editorId = (await h.ok('permissions.createRole', { name: 'editor', description: 'Edits', permissions: ['documents.write', 'documents.read'] }, key)).roleId
    await h.ok('permissions.createRole', { name: 'viewer', permissions: ['documents.read'] }, key)
    await h.ok('permissions.createRole', { name: 'auditor' }, key)
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

  test('setRoles replaces the roles; an empty list clears them', async () => {
    await h.ok('keys.addRoles', { keyId: k.keyId, roles: ['editor'] }, key)
    expect((await verifiedAccess(h, k.key)).roles).toEqual(['editor'])
    const data = await h.ok('keys.setRoles', { keyId: k.keyId, roles: ['viewer', 'auditor'] }, key)
    expect(data.map((r: any) => r.name)).toEqual(['auditor', 'viewer'])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['documents.read'], roles: ['auditor', 'viewer'] })
    expect(await h.ok('keys.setRoles', { keyId: k.keyId, roles: [] }, key)).toEqual([])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: [], roles: [] })
  })

  test('role changes leave direct permissions alone', async () => {
    await h.ok('keys.addPermissions', { keyId: k.keyId, permissions: ['users.read'] }, key)
    await h.ok('keys.setRoles', { keyId: k.keyId, roles: ['viewer'] }, key)
    await h.ok('keys.removeRoles', { keyId: k.keyId, roles: ['viewer'] }, key)
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['users.read'], roles: [] })
  })
})

describe('other keys are untouched', () => {
  test('changes to one key do not reach another key of the workspace', async () => {
    const other = await issueKey(h, 'acme', { permissions: ['a'] })
    await h.ok('keys.setPermissions', { keyId: k.keyId, permissions: ['b'] }, key)
    expect((await verifiedAccess(h, other.key)).permissions).toEqual(['a'])
    expect((await verifiedAccess(h, k.key)).permissions).toEqual(['b'])
  })
})
