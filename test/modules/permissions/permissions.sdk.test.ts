// permissions.* through the official SDK (@unkey/api) against a real listening
// latch: every success must parse (no ResponseValidationError), lists must
// stop paging, and every error status must arrive as its typed error class.
// keys.*Permissions / keys.*Roles are keys routes: their SDK tests are in
// test/modules/keys/keys.sdk.test.ts.
import { describe, expect, test } from 'bun:test'
import type { Unkey } from '@unkey/api'
import {
  APIError,
  BadRequestErrorResponse,
  ConflictErrorResponse,
  ForbiddenErrorResponse,
  NotFoundErrorResponse,
  UnauthorizedErrorResponse,
} from '@unkey/api/models/errors'
import { type Harness, PERMISSION_ID, REQUEST_ID, ROLE_ID } from '../../support/harness'
import { allPages, failure, parsed, type SdkFixture, withSdk } from '../../support/sdk'

let h: Harness
let unkey: Unkey
let client: SdkFixture['client']
withSdk((f) => ({ h, unkey, client } = f))

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

describe('typed 400, 401 and 403', () => {
  test('invalid input the SDK lets through is a BadRequestErrorResponse with errors[]', async () => {
    const error = await failure(unkey.permissions.createPermission({ name: '', slug: 'sdk.bad' }))
    expect(error).toBeInstanceOf(BadRequestErrorResponse)
    expect((error as BadRequestErrorResponse).error.errors).toEqual([{ location: 'body.name', message: 'Expected string length greater or equal to 1' }])
  })

  test('an unknown root key is an UnauthorizedErrorResponse', async () => {
    const error = await failure(client('unkey_doesnotexist123456').permissions.listRoles({}))
    expect(error).toBeInstanceOf(UnauthorizedErrorResponse)
    expect(error.statusCode).toBe(401)
  })

  test('a missing rbac permission is a ForbiddenErrorResponse', async () => {
    const limited = client(await h.rootKey('acme', ['api.*.update_key']))
    expect(await failure(limited.permissions.listPermissions({}))).toBeInstanceOf(ForbiddenErrorResponse)
  })
})
