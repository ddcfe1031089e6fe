// An audit event commits or rolls back with its change: a mutation that is
// refused writes no event (whether it fails before or inside its
// transaction), an event that cannot be written undoes the change, and a
// transaction rolled back after the event was recorded leaves neither.
import { describe, expect, test } from 'bun:test'
import { type AuditFixture, allEvents, auditRowCount, withAuditFixture } from './fixture'

interface FailureCase {
  rpc: string
  status: number
  prepare?: (f: AuditFixture) => Promise<unknown>
  body: (f: AuditFixture) => unknown
}

const FAILURES: FailureCase[] = [
  { rpc: 'apis.deleteApi', status: 404, body: () => ({ apiId: 'api_missing1' }) },
  {
    rpc: 'apis.deleteApi',
    status: 412,
    prepare: (f) => f.h.services.apis.setDeleteProtection(f.workspaceId, f.apiId, true),
    body: (f) => ({ apiId: f.apiId }),
  },
  { rpc: 'keys.createKey', status: 412, body: (f) => ({ apiId: f.apiId, recoverable: true }) },
  { rpc: 'keys.createKey', status: 404, body: (f) => ({ apiId: f.apiId, roles: ['no-such-role'] }) },
  { rpc: 'keys.updateKey', status: 404, body: (f) => ({ keyId: f.keyId, name: 'x', roles: ['no-such-role'] }) },
  { rpc: 'keys.deleteKey', status: 404, body: () => ({ keyId: 'key_missing1' }) },
  // Refused inside the transaction, after the balance was read: nothing stays.
  { rpc: 'keys.updateCredits', status: 400, body: (f) => ({ keyId: f.keyId, operation: 'increment', value: 5 }) },
  { rpc: 'keys.removeRoles', status: 404, body: (f) => ({ keyId: f.keyId, roles: ['reader', 'no-such-role'] }) },
  { rpc: 'keys.removePermissions', status: 404, body: (f) => ({ keyId: f.keyId, permissions: ['docs.read', 'no.such'] }) },
  { rpc: 'identities.createIdentity', status: 409, body: () => ({ externalId: 'user_1' }) },
  { rpc: 'identities.deleteIdentity', status: 404, body: () => ({ identity: 'nobody' }) },
  { rpc: 'permissions.createPermission', status: 409, body: () => ({ name: 'again', slug: 'docs.read' }) },
  { rpc: 'permissions.createRole', status: 409, body: () => ({ name: 'reader', permissions: ['brand.new'] }) },
  { rpc: 'permissions.deleteRole', status: 404, body: () => ({ role: 'nobody' }) },
  { rpc: 'permissions.setRolePermissions', status: 404, body: () => ({ roleId: 'role_missing1', permissions: ['docs.read'] }) },
  { rpc: 'ratelimit.setOverride', status: 404, body: () => ({ namespace: 'nowhere', identifier: 'x', limit: 1, duration: 1000 }) },
  { rpc: 'ratelimit.deleteOverride', status: 404, body: () => ({ namespace: 'email', identifier: 'nobody' }) },
  { rpc: 'keys.migrateKeys', status: 404, body: (f) => ({ migrationId: 'mig_missing1', apiId: f.apiId, keys: [{ hash: 'aGFzaA==' }] }) },
]

/** Every row of the tables a refused mutation must leave alone. */
const snapshot = (f: AuditFixture) =>
  ['audit_logs', 'audit_log_resources', 'apis', 'keys', 'identities', 'permissions', 'roles', 'ratelimit_overrides'].map((table) =>
    f.h.db
      .query(`SELECT * FROM ${table}`)
      .all()
      .map((row) => JSON.stringify(row))
      .sort(),
  )

describe('audit events share the transaction of their change', () => {
  let f: AuditFixture
  withAuditFixture((fixture) => {
    f = fixture
  })

  test.each(FAILURES.map((c) => [`${c.rpc} ${c.status}`, c] as const))('%s writes no event and changes nothing', async (_, c) => {
    await c.prepare?.(f)
    const before = snapshot(f)
    const res = await f.h.call(`/v2/${c.rpc}`, c.body(f), f.root)
    expect(res.status).toBe(c.status)
    expect(snapshot(f)).toEqual(before)
  })

  test('an event that cannot be written undoes the change (500, nothing stored)', async () => {
    f.h.db.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_logs BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END")
    const before = snapshot(f)
    for (const [rpc, body] of [
      ['apis.createApi', { name: 'billing' }],
      ['keys.createKey', { apiId: f.apiId }],
      ['keys.deleteKey', { keyId: f.keyId }],
      ['identities.createIdentity', { externalId: 'user_2' }],
      ['ratelimit.setOverride', { namespace: 'email', identifier: 'gold', limit: 1, duration: 1000 }],
    ] as const) {
      expect((await f.h.call(`/v2/${rpc}`, body, f.root)).status).toBe(500)
    }
    expect(snapshot(f)).toEqual(before)
    expect(f.h.errors).toHaveLength(5)
    // The key that was not deleted still verifies.
    f.h.db.exec('DROP TRIGGER refuse_audit')
    expect((await f.h.call('/v2/keys.getKey', { keyId: f.keyId }, f.root)).status).toBe(200)
  })

  test('a transaction rolled back after recording leaves neither the change nor its event', async () => {
    const before = auditRowCount(f.h)
    const boom = new Error('boom')
    const attempt = f.h.stores.transaction(async () => {
      await f.h.services.apis.create(f.workspaceId, 'doomed')
      await f.h.services.identities.create(f.workspaceId, { externalId: 'doomed' })
      expect(auditRowCount(f.h)).toBe(before + 2)
      throw boom
    })
    await expect(attempt).rejects.toBe(boom)
    expect(auditRowCount(f.h)).toBe(before)
    expect(f.h.db.query("SELECT count(*) AS n FROM apis WHERE name = 'doomed'").get()).toEqual({ n: 0 })
    expect(await f.h.services.identities.find(f.workspaceId, 'doomed')).toBeNull()
  })

  test('a change and its event are committed together, and the event names only the changed resources', async () => {
    await f.h.ok('keys.setRoles', { keyId: f.keyId, roles: ['reader'] }, f.root)
    const [event] = await allEvents(f.h, f.workspaceId)
    const roles = f.h.db.query('SELECT role_id FROM keys_roles WHERE key_id = ?').all(f.keyId)
    expect(roles).toEqual([{ role_id: f.roleId }])
    expect(event).toMatchObject({ event: 'key.set_roles', description: `Set the roles of key ${f.keyId} to reader` })
  })
})
