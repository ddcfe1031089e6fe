// keys.verifyKey with a permission query: direct and role-derived
// permissions, the query language's syntax errors, and changes seen at once.
import { describe, expect, test } from 'bun:test'
import { errorBody, type Harness } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let root: string
let apiId: string
let verify: KeysFixture['verify']
withKeys((f) => ({ h, root, apiId, verify } = f))

describe('verifyKey permission queries', () => {
  test('direct and role-derived permissions, deduplicated, with nested queries', async () => {
    await h.ok('permissions.createRole', { name: 'editor', permissions: ['docs.read', 'docs.write'] }, root)
    const { key } = await h.ok('keys.createKey', { apiId, permissions: ['docs.read', 'billing:view'], roles: ['editor'] }, root)
    const base = await verify({ key })
    expect(base.permissions).toEqual(['billing:view', 'docs.read', 'docs.write'])
    expect(base.roles).toEqual(['editor'])
    const cases: [string, string][] = [
      ['docs.write', 'VALID'],
      ['docs.write AND billing:view', 'VALID'],
      ['docs.delete', 'INSUFFICIENT_PERMISSIONS'],
      ['docs.delete OR docs.write', 'VALID'],
      ['docs.read AND (docs.delete OR (billing:view and docs.write))', 'VALID'],
      ['(docs.read AND docs.delete) OR admin', 'INSUFFICIENT_PERMISSIONS'],
      ['docs.read and docs.write or admin', 'VALID'],
      ['admin or docs.read and docs.delete', 'INSUFFICIENT_PERMISSIONS'],
      ['docs.*', 'INSUFFICIENT_PERMISSIONS'],
    ]
    for (const [query, code] of cases) expect([query, (await verify({ key, permissions: query })).code]).toEqual([query, code])
  })

  test('a syntax error is a 400 of its own type, even for an unknown key', async () => {
    const res = await h.call('/v2/keys.verifyKey', { key: 'unknown_key', permissions: 'a AND (b OR' }, root)
    expect(res.status).toBe(400)
    expect(res.body).toEqual(
      errorBody(400, 'Bad Request', 'user/bad_request/permissions_query_syntax_error', expect.stringContaining('position'), [
        { location: 'body.permissions', message: res.body.error.detail },
      ]),
    )
  })

  test('role and permission changes are visible to the next verify', async () => {
    await h.ok('permissions.createRole', { name: 'viewer', permissions: ['docs.read'] }, root)
    const { key, keyId } = await h.ok('keys.createKey', { apiId, roles: ['viewer'] }, root)
    expect((await verify({ key, permissions: 'docs.read' })).code).toBe('VALID')
    await h.ok('permissions.setRolePermissions', { roleId: 'viewer', permissions: ['docs.list'] }, root)
    expect((await verify({ key, permissions: 'docs.read' })).code).toBe('INSUFFICIENT_PERMISSIONS')
    await h.ok('keys.addPermissions', { keyId, permissions: ['docs.read'] }, root)
    expect((await verify({ key, permissions: 'docs.read AND docs.list' })).code).toBe('VALID')
    await h.ok('permissions.deletePermission', { permission: 'docs.read' }, root)
    expect((await verify({ key, permissions: 'docs.read' })).code).toBe('INSUFFICIENT_PERMISSIONS')
    await h.ok('permissions.deleteRole', { role: 'viewer' }, root)
    const after = await verify({ key })
    expect(after.roles).toBeUndefined()
    expect(after.permissions).toBeUndefined()
  })
})
