// Every mutation route writes exactly one audit event, naming the change, the
// calling root key (id and name), the resources touched, and the request's id
// and user agent. Reads, verifications and ratelimit decisions write none.
import { describe, expect, test } from 'bun:test'
import { type AuditFixture, ADMIN_NAME, USER_AGENT, auditRowCount, eventsOfRequest, resourceRefs, withAuditFixture } from './fixture'

interface MutationCase {
  rpc: string
  event: string
  /** Extra state the call needs, made through the services; returns values for `body` and `resources`. */
  prepare?: (f: AuditFixture) => Promise<Record<string, string>>
  body: (f: AuditFixture, v: Record<string, string>) => unknown
  /** `type:id` of each resource the event must name, in order. */
  resources: (f: AuditFixture, data: any, v: Record<string, string>) => string[] | Promise<string[]>
}

const permissionIdOf = async (f: AuditFixture, slug: string) => (await f.h.services.permissions.findPermission(f.workspaceId, slug))!.id
const identityIdOf = async (f: AuditFixture, externalId: string) => (await f.h.services.identities.findByExternalId(f.workspaceId, externalId))!.id
const namespaceIdOf = async (f: AuditFixture, name: string) => (await f.h.services.ratelimit.findNamespace(f.workspaceId, name))!.id

const CASES: MutationCase[] = [
  { rpc: 'apis.createApi', event: 'api.create', body: () => ({ name: 'billing' }), resources: (_, d) => [`api:${d.apiId}`] },
  { rpc: 'apis.deleteApi', event: 'api.delete', body: (f) => ({ apiId: f.apiId }), resources: (f) => [`api:${f.apiId}`] },
  {
    rpc: 'keys.createKey',
    event: 'key.create',
    body: (f) => ({ apiId: f.apiId, name: 'new', externalId: 'user_2' }),
    resources: async (f, d) => [`key:${d.keyId}`, `api:${f.apiId}`, `identity:${await identityIdOf(f, 'user_2')}`],
  },
  { rpc: 'keys.updateKey', event: 'key.update', body: (f) => ({ keyId: f.keyId, name: 'renamed' }), resources: (f) => [`key:${f.keyId}`, `api:${f.apiId}`] },
  {
    rpc: 'keys.updateKey',
    event: 'key.update',
    body: (f) => ({ keyId: f.keyId, externalId: 'user_1', meta: { plan: 'pro' } }),
    resources: (f) => [`key:${f.keyId}`, `api:${f.apiId}`, `identity:${f.identityId}`],
  },
  { rpc: 'keys.deleteKey', event: 'key.delete', body: (f) => ({ keyId: f.keyId }), resources: (f) => [`key:${f.keyId}`, `api:${f.apiId}`] },
  {
    rpc: 'keys.updateCredits',
    event: 'key.update_credits',
    body: (f) => ({ keyId: f.keyId, operation: 'set', value: 10 }),
    resources: (f) => [`key:${f.keyId}`, `api:${f.apiId}`],
  },
  {
    rpc: 'keys.rerollKey',
    event: 'key.reroll',
    body: (f) => ({ keyId: f.keyId, expiration: 0 }),
    resources: (f, d) => [`key:${f.keyId}`, `api:${f.apiId}`, `key:${d.keyId}`],
  },
  {
    rpc: 'keys.migrateKeys',
    event: 'key.migrate',
    body: (f) => ({ migrationId: f.migrationId, apiId: f.apiId, keys: [{ hash: 'aGFzaC1vbmU=' }, { hash: 'aGFzaC10d28=' }] }),
    resources: (f, d) => [`api:${f.apiId}`, `migration:${f.migrationId}`, ...d.migrated.map((m: any) => `key:${m.keyId}`)],
  },
  {
    rpc: 'keys.addPermissions',
    event: 'key.add_permissions',
    body: (f) => ({ keyId: f.keyId, permissions: ['docs.read', 'docs.write'] }),
    resources: async (f) => [`key:${f.keyId}`, `permission:${f.permissionId}`, `permission:${await permissionIdOf(f, 'docs.write')}`],
  },
  {
    rpc: 'keys.removePermissions',
    event: 'key.remove_permissions',
    prepare: async (f) => (await f.h.services.keyAccess.addPermissions(f.workspaceId, f.keyId, ['docs.read']), {}),
    body: (f) => ({ keyId: f.keyId, permissions: ['docs.read'] }),
    resources: (f) => [`key:${f.keyId}`, `permission:${f.permissionId}`],
  },
  {
    rpc: 'keys.setPermissions',
    event: 'key.set_permissions',
    body: (f) => ({ keyId: f.keyId, permissions: ['docs.read'] }),
    resources: (f) => [`key:${f.keyId}`, `permission:${f.permissionId}`],
  },
  {
    rpc: 'keys.addRoles',
    event: 'key.add_roles',
    body: (f) => ({ keyId: f.keyId, roles: ['reader'] }),
    resources: (f) => [`key:${f.keyId}`, `role:${f.roleId}`],
  },
  {
    rpc: 'keys.removeRoles',
    event: 'key.remove_roles',
    prepare: async (f) => (await f.h.services.keyAccess.addRoles(f.workspaceId, f.keyId, ['reader']), {}),
    body: (f) => ({ keyId: f.keyId, roles: [f.roleId] }),
    resources: (f) => [`key:${f.keyId}`, `role:${f.roleId}`],
  },
  {
    rpc: 'keys.setRoles',
    event: 'key.set_roles',
    body: (f) => ({ keyId: f.keyId, roles: ['reader'] }),
    resources: (f) => [`key:${f.keyId}`, `role:${f.roleId}`],
  },
  {
    rpc: 'identities.createIdentity',
    event: 'identity.create',
    body: () => ({ externalId: 'user_9' }),
    resources: (_, d) => [`identity:${d.identityId}`],
  },
  {
    rpc: 'identities.updateIdentity',
    event: 'identity.update',
    body: () => ({ identity: 'user_1', meta: { plan: 'pro' } }),
    resources: (f) => [`identity:${f.identityId}`],
  },
  {
    rpc: 'identities.deleteIdentity',
    event: 'identity.delete',
    body: (f) => ({ identity: f.identityId }),
    resources: (f) => [`identity:${f.identityId}`],
  },
  {
    rpc: 'permissions.createPermission',
    event: 'permission.create',
    body: () => ({ name: 'write', slug: 'docs.write' }),
    resources: (_, d) => [`permission:${d.permissionId}`],
  },
  {
    rpc: 'permissions.deletePermission',
    event: 'permission.delete',
    body: (f) => ({ permission: f.permissionSlug }),
    resources: (f) => [`permission:${f.permissionId}`],
  },
  {
    rpc: 'permissions.createRole',
    event: 'role.create',
    body: () => ({ name: 'editor', permissions: ['docs.read', 'docs.edit'] }),
    resources: async (f, d) => [`role:${d.roleId}`, `permission:${f.permissionId}`, `permission:${await permissionIdOf(f, 'docs.edit')}`],
  },
  { rpc: 'permissions.deleteRole', event: 'role.delete', body: () => ({ role: 'reader' }), resources: (f) => [`role:${f.roleId}`] },
  {
    rpc: 'permissions.setRolePermissions',
    event: 'role.set_permissions',
    body: (f) => ({ roleId: f.roleId, permissions: ['docs.admin'] }),
    resources: async (f) => [`role:${f.roleId}`, `permission:${await permissionIdOf(f, 'docs.admin')}`],
  },
  {
    rpc: 'ratelimit.limit',
    event: 'ratelimit.create_namespace',
    body: () => ({ namespace: 'sms', identifier: 'u', limit: 1, duration: 1000 }),
    resources: async (f) => [`ratelimit_namespace:${await namespaceIdOf(f, 'sms')}`],
  },
  {
    rpc: 'ratelimit.multiLimit',
    event: 'ratelimit.create_namespace',
    body: () => [{ namespace: 'push', identifier: 'u', limit: 1, duration: 1000 }],
    resources: async (f) => [`ratelimit_namespace:${await namespaceIdOf(f, 'push')}`],
  },
  {
    rpc: 'ratelimit.setOverride',
    event: 'ratelimit.set_override',
    body: () => ({ namespace: 'email', identifier: 'gold', limit: 5, duration: 1000 }),
    resources: (f, d) => [`ratelimit_namespace:${f.namespaceId}`, `ratelimit_override:${d.overrideId}`],
  },
  {
    rpc: 'ratelimit.deleteOverride',
    event: 'ratelimit.delete_override',
    body: () => ({ namespace: 'email', identifier: 'vip' }),
    resources: (f) => [`ratelimit_namespace:${f.namespaceId}`, `ratelimit_override:${f.overrideId}`],
  },
]

describe('every mutation route writes one audit event', () => {
  let f: AuditFixture
  withAuditFixture((fixture) => {
    f = fixture
  })

  test.each(CASES.map((c) => [`${c.rpc} writes ${c.event}`, c] as const))('%s', async (_, c) => {
    const vars = (await c.prepare?.(f)) ?? {}
    const before = auditRowCount(f.h)
    const res = await f.h.call(`/v2/${c.rpc}`, c.body(f, vars), f.root, { 'user-agent': USER_AGENT })
    expect(res.status).toBe(200)
    expect(auditRowCount(f.h)).toBe(before + 1)
    const requestId = res.headers.get('x-request-id')!
    const [event, ...more] = await eventsOfRequest(f.h, f.workspaceId, requestId)
    expect(more).toEqual([])
    expect(event).toMatchObject({
      event: c.event,
      workspaceId: f.workspaceId,
      time: f.h.clock.now(),
      actor: { type: 'root_key', id: f.rootKeyId, name: ADMIN_NAME },
      requestId,
      userAgent: USER_AGENT,
      // app.handle has no socket: no remote address (see audit.context.test.ts for a real one).
      remoteAddr: null,
    })
    expect(event!.id).toMatch(/^audit_[1-9A-HJ-NP-Za-km-z]+$/)
    expect(event!.description).not.toBe('')
    expect(event!.description).not.toContain('\n')
    expect(resourceRefs(event!)).toEqual(await c.resources(f, res.body.data, vars))
  })

  test('every event name is covered by a route above or by a service-only test', async () => {
    const { AUDIT_EVENTS } = await import('../../../src/modules/audit/model')
    const serviceOnly = [
      'workspace.create',
      'root_key.create',
      'root_key.revoke',
      'root_key.rotate',
      'api.update',
      'migration.create',
      'ratelimit.delete_namespace',
    ]
    expect([...new Set([...CASES.map((c) => c.event), ...serviceOnly])].sort()).toEqual([...AUDIT_EVENTS].sort())
  })

  test('reads, verifications and ratelimit decisions in an existing namespace write nothing', async () => {
    const { key } = await f.h.services.keys.create(f.workspaceId, { apiId: f.apiId })
    const before = auditRowCount(f.h)
    for (const [rpc, body] of [
      ['apis.getApi', { apiId: f.apiId }],
      ['keys.getKey', { keyId: f.keyId }],
      ['keys.verifyKey', { key, credits: { cost: 0 } }],
      ['keys.whoami', { key }],
      ['apis.listKeys', { apiId: f.apiId }],
      ['identities.listIdentities', {}],
      ['permissions.listRoles', {}],
      ['ratelimit.limit', { namespace: 'email', identifier: 'u', limit: 1, duration: 1000 }],
      ['ratelimit.multiLimit', [{ namespace: 'email', identifier: 'w', limit: 1, duration: 1000 }]],
      ['ratelimit.listOverrides', { namespace: 'email' }],
      ['audit.listLogs', {}],
    ] as const) {
      expect((await f.h.call(`/v2/${rpc}`, body, f.root)).status).toBe(200)
    }
    await f.h.services.flush()
    expect(auditRowCount(f.h)).toBe(before)
  })

  test('the /v1 alias of a route records like /v2', async () => {
    const res = await f.h.call('/v1/apis.createApi', { name: 'legacy' }, f.root)
    expect(res.status).toBe(200)
    const [event] = await eventsOfRequest(f.h, f.workspaceId, res.body.meta.requestId)
    expect(event).toMatchObject({ event: 'api.create', actor: { type: 'root_key', id: f.rootKeyId } })
  })
})
