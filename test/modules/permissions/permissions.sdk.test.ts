// permissions.* and keys.*Permissions / keys.*Roles through the official SDK
// (@unkey/api) against a real listening latch: every success must parse (no
// ResponseValidationError), lists must stop paging, and every error status
// must arrive as its typed error class.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Unkey } from '@unkey/api'
import {
  APIError,
  BadRequestErrorResponse,
  ConflictErrorResponse,
  ForbiddenErrorResponse,
  NotFoundErrorResponse,
  UnauthorizedErrorResponse,
} from '@unkey/api/models/errors'
import { Harness, REQUEST_ID } from '../../support/harness'
import { issueKey, PERMISSION_ID, ROLE_ID, verifiedAccess } from './fixtures'
import { allPages, failure, parsed, serveForSdk } from '../../support/sdk'

let h: Harness
let sdk: ReturnType<typeof serveForSdk>
let rootKey: string
let unkey: Unkey

const client = (key: string) => sdk.client(key)

beforeAll(async () => {
  h = new Harness()
  rootKey = await h.rootKey('acme')
  sdk = serveForSdk(h)
  unkey = client(rootKey)
})

afterAll(async () => {
  await sdk.stop()
  await h.close()
})

describe('permissions', () => {
  test('createPermission, getPermission, deletePermission parse; duplicates and missing ones are typed', async () => {
    const created = await parsed(unkey.permissions.createPermission({ name: 'Read docs', slug: 'sdk.docs.read', description: 'View' }))
    expect(created).toEqual({ meta: { requestId: REQUEST_ID }, data: { permissionId: PERMISSION_ID } })
    const permissionId = created.data.permissionId

    const got = await parsed(unkey.permissions.getPermission({ permission: permissionId }))
    expect(got.data).toEqual({ id: permissionId, name: 'Read docs', slug: 'sdk.docs.read', description: 'View' })

    const duplicate = await failure(unkey.permissions.createPermission({ name: 'again', slug: 'sdk.docs.read' }))
    expect(duplicate).toBeInstanceOf(ConflictErrorResponse)
    expect(duplicate.statusCode).toBe(409)
    expect((duplicate as ConflictErrorResponse).error.detail).toBe("A permission with slug 'sdk.docs.read' already exists in this workspace.")

    expect(await parsed(unkey.permissions.deletePermission({ permission: 'sdk.docs.read' }))).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    const missing = await failure(unkey.permissions.getPermission({ permission: permissionId }))
    expect(missing).toBeInstanceOf(NotFoundErrorResponse)
    expect((missing as NotFoundErrorResponse).error.type).toBe('https://unkey.com/docs/errors/unkey/data/permission_not_found')
    expect(await failure(unkey.permissions.deletePermission({ permission: permissionId }))).toBeInstanceOf(NotFoundErrorResponse)
  })

  test('listPermissions: the iterator visits every page once and stops', async () => {
    const slugs = Array.from({ length: 5 }, (_, i) => `sdk.list.${i}`)
    for (const slug of slugs) await parsed(unkey.permissions.createPermission({ name: slug, slug }))
    const first = await parsed(unkey.permissions.listPermissions({ limit: 2, search: 'sdk.list' }))
    expect(first.result.data).toHaveLength(2)
    expect(first.result.pagination.hasMore).toBe(true)
    const pages = await allPages(first)
    expect(pages).toHaveLength(3)
    expect(pages.flatMap((page) => page.result.data.map((p) => p.slug)).sort()).toEqual(slugs)
  })
})

describe('roles', () => {
  test('createRole, getRole, listRoles, setRolePermissions, deleteRole parse', async () => {
    const created = await parsed(unkey.permissions.createRole({ name: 'sdk-editor', description: 'Edits', permissions: ['sdk.role.read'] }))
    expect(created.data).toEqual({ roleId: ROLE_ID })
    const roleId = created.data.roleId

    const role = await parsed(unkey.permissions.getRole({ role: 'sdk-editor' }))
    expect(role.data).toEqual({
      id: roleId,
      name: 'sdk-editor',
      description: 'Edits',
      permissions: [{ id: PERMISSION_ID, name: 'sdk.role.read', slug: 'sdk.role.read' }],
    })

    await parsed(unkey.permissions.createRole({ name: 'sdk-empty' }))
    const listed = await parsed(unkey.permissions.listRoles({ search: 'sdk-' }))
    expect(listed.result.data.map((r) => r.name).sort()).toEqual(['sdk-editor', 'sdk-empty'])
    expect(listed.result.pagination).toEqual({ hasMore: false })
    expect(listed.result.data.find((r) => r.name === 'sdk-empty')).toEqual({ id: ROLE_ID, name: 'sdk-empty' })

    const set = await parsed(unkey.permissions.setRolePermissions({ roleId, permissions: ['sdk.role.write', 'sdk.role.read'] }))
    expect(set.data.map((p) => p.slug)).toEqual(['sdk.role.read', 'sdk.role.write'])
    expect((await parsed(unkey.permissions.setRolePermissions({ roleId, permissions: [] }))).data).toEqual([])

    expect(await parsed(unkey.permissions.deleteRole({ role: roleId }))).toEqual({ meta: { requestId: REQUEST_ID }, data: {} })
    expect(await failure(unkey.permissions.getRole({ role: roleId }))).toBeInstanceOf(NotFoundErrorResponse)
    expect(await failure(unkey.permissions.setRolePermissions({ roleId, permissions: [] }))).toBeInstanceOf(NotFoundErrorResponse)
    // The SDK does not type a 404 for deleteRole: it arrives as a plain APIError with the status.
    const deletedTwice = await failure(unkey.permissions.deleteRole({ role: roleId }))
    expect(deletedTwice).toBeInstanceOf(APIError)
    expect(deletedTwice.statusCode).toBe(404)
  })

  test('a duplicate role name is a ConflictErrorResponse', async () => {
    await parsed(unkey.permissions.createRole({ name: 'sdk-dup' }))
    const error = await failure(unkey.permissions.createRole({ name: 'sdk-dup' }))
    expect(error).toBeInstanceOf(ConflictErrorResponse)
    expect((error as ConflictErrorResponse).error.type).toBe('https://unkey.com/docs/errors/unkey/data/role_already_exists')
  })
})

describe("a key's permissions and roles", () => {
  test('add/remove/setPermissions and add/remove/setRoles parse; verification sees each change', async () => {
    await parsed(unkey.permissions.createRole({ name: 'sdk-key-role', permissions: ['sdk.key.via-role'] }))
    const k = await issueKey(h)

    const added = await parsed(unkey.keys.addPermissions({ keyId: k.keyId, permissions: ['sdk.key.a', 'sdk.key.b'] }))
    expect(added.data).toEqual([
      { id: PERMISSION_ID, name: 'sdk.key.a', slug: 'sdk.key.a' },
      { id: PERMISSION_ID, name: 'sdk.key.b', slug: 'sdk.key.b' },
    ])
    const removed = await parsed(unkey.keys.removePermissions({ keyId: k.keyId, permissions: ['sdk.key.a'] }))
    expect(removed.data.map((p) => p.slug)).toEqual(['sdk.key.b'])
    const set = await parsed(unkey.keys.setPermissions({ keyId: k.keyId, permissions: ['sdk.key.c'] }))
    expect(set.data.map((p) => p.slug)).toEqual(['sdk.key.c'])

    const roles = await parsed(unkey.keys.addRoles({ keyId: k.keyId, roles: ['sdk-key-role'] }))
    expect(roles.data).toEqual([
      { id: ROLE_ID, name: 'sdk-key-role', permissions: [{ id: PERMISSION_ID, name: 'sdk.key.via-role', slug: 'sdk.key.via-role' }] },
    ])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['sdk.key.c', 'sdk.key.via-role'], roles: ['sdk-key-role'] })

    expect((await parsed(unkey.keys.removeRoles({ keyId: k.keyId, roles: ['sdk-key-role'] }))).data).toEqual([])
    expect((await parsed(unkey.keys.setRoles({ keyId: k.keyId, roles: ['sdk-key-role'] }))).data.map((r) => r.name)).toEqual(['sdk-key-role'])
    expect((await parsed(unkey.keys.setRoles({ keyId: k.keyId, roles: [] }))).data).toEqual([])
    expect(await verifiedAccess(h, k.key)).toEqual({ permissions: ['sdk.key.c'], roles: [] })
  })

  test('unknown keys, roles and permissions are NotFoundErrorResponse', async () => {
    const k = await issueKey(h)
    const unknownKey = await failure(unkey.keys.addPermissions({ keyId: 'key_doesnotexist', permissions: ['a'] }))
    expect(unknownKey).toBeInstanceOf(NotFoundErrorResponse)
    const unknownRole = await failure(unkey.keys.addRoles({ keyId: k.keyId, roles: ['sdk-ghost'] }))
    expect(unknownRole).toBeInstanceOf(NotFoundErrorResponse)
    expect((unknownRole as NotFoundErrorResponse).error.detail).toBe("Role 'sdk-ghost' was not found.")
    const unknownPermission = await failure(unkey.keys.removePermissions({ keyId: k.keyId, permissions: ['sdk.ghost'] }))
    expect(unknownPermission).toBeInstanceOf(NotFoundErrorResponse)
  })
})

describe('typed 400, 401 and 403', () => {
  test('invalid input the SDK lets through is a BadRequestErrorResponse with errors[]', async () => {
    const error = await failure(unkey.permissions.createPermission({ name: '', slug: 'sdk.bad' }))
    expect(error).toBeInstanceOf(BadRequestErrorResponse)
    expect((error as BadRequestErrorResponse).error.errors).toEqual([{ location: 'body.name', message: 'Expected string length greater or equal to 1' }])
    const emptyList = await failure(unkey.keys.addRoles({ keyId: 'key_whatever', roles: [] }))
    expect(emptyList).toBeInstanceOf(BadRequestErrorResponse)
  })

  test('an unknown root key is an UnauthorizedErrorResponse', async () => {
    const error = await failure(client('unkey_doesnotexist123456').permissions.listRoles({}))
    expect(error).toBeInstanceOf(UnauthorizedErrorResponse)
    expect(error.statusCode).toBe(401)
  })

  test('a missing rbac permission is a ForbiddenErrorResponse naming it', async () => {
    const k = await issueKey(h)
    const limited = client(await h.rootKey('acme', ['api.*.update_key']))
    const error = await failure(limited.keys.addPermissions({ keyId: k.keyId, permissions: ['sdk.x'] }))
    expect(error).toBeInstanceOf(ForbiddenErrorResponse)
    expect((error as ForbiddenErrorResponse).error.detail).toBe("Your key does not have the required 'rbac.*.add_permission_to_key' permission")
    expect(await failure(limited.permissions.listPermissions({}))).toBeInstanceOf(ForbiddenErrorResponse)
  })
})
