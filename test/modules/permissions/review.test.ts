// Behaviour pinned after a review against the upstream contract.
import { describe, expect, test } from 'bun:test'
import { Harness, withHarness } from '../../support/harness'

let h: Harness
let root: string
withHarness((f) => ({ h, root: root } = f), 'acme')

describe('search', () => {
  test('listPermissions matches id, name, slug and description, ignoring case', async () => {
    const { permissionId } = await h.ok('permissions.createPermission', { name: 'Read docs', slug: 'docs.read', description: 'Download invoices' }, root)
    await h.ok('permissions.createPermission', { name: 'Other', slug: 'other.thing' }, root)
    for (const search of ['DOWNLOAD', permissionId, 'DOCS', 'docs.READ']) {
      const page = await h.ok('permissions.listPermissions', { search }, root)
      expect([search, page.map((p: any) => p.id)]).toEqual([search, [permissionId]])
    }
  })

  test('listRoles matches id, name and description, ignoring case', async () => {
    const { roleId } = await h.ok('permissions.createRole', { name: 'finance', description: 'Billing staff' }, root)
    await h.ok('permissions.createRole', { name: 'support' }, root)
    for (const search of ['BILLING', roleId, 'FIN']) {
      const page = await h.ok('permissions.listRoles', { search }, root)
      expect([search, page.map((r: any) => r.id)]).toEqual([search, [roleId]])
    }
  })
})

describe('createRole', () => {
  test('slugs that differ only in case count once', async () => {
    const { roleId } = await h.ok('permissions.createRole', { name: 'r2', permissions: ['x.y', 'X.Y', 'a.b'] }, root)
    const role = await h.ok('permissions.getRole', { role: roleId }, root)
    expect(role.permissions.map((p: any) => p.slug)).toEqual(['a.b', 'x.y'])
  })
})
