// What the audit tests share: a harness whose admin root key has a known id
// and name, one of everything a mutation can touch (API, key, identity,
// permission, role, ratelimit namespace and override, key migration), made
// through the services (so their own events are latch's, not the key's), and
// ways to read the events back.
import { afterEach, beforeEach } from 'bun:test'
import type { AuditRecord } from '../../../src/modules/audit/service'
import { Harness } from '../../support/harness'

export const ADMIN_NAME = 'auditor'
export const USER_AGENT = 'audit-test/1.0'

export interface AuditFixture {
  h: Harness
  /** A `*` root key named ADMIN_NAME of workspace 'ws'. */
  root: string
  rootKeyId: string
  workspaceId: string
  apiId: string
  keyId: string
  identityId: string
  permissionId: string
  permissionSlug: string
  roleId: string
  namespaceId: string
  overrideId: string
  migrationId: string
}

/** Builds the fixture on a fresh harness (closed by the caller). */
export async function auditFixture(h = new Harness()): Promise<AuditFixture> {
  const admin = await h.services.rootKeys.create({ workspace: 'ws', name: ADMIN_NAME, permissions: ['*'] })
  const { workspaceId } = admin
  const s = h.services
  const api = await s.apis.create(workspaceId, 'payments')
  const { keyId } = await s.keys.create(workspaceId, { apiId: api.id, name: 'checkout' })
  const identity = await s.identities.create(workspaceId, { externalId: 'user_1' })
  const permission = await s.permissions.createPermission(workspaceId, { name: 'read', slug: 'docs.read' })
  const role = await s.permissions.createRole(workspaceId, { name: 'reader', permissions: ['docs.read'] })
  await s.ratelimit.limit(workspaceId, [{ namespace: 'email', identifier: 'u', limit: 10, duration: 60_000 }])
  const namespace = (await s.ratelimit.findNamespace(workspaceId, 'email'))!
  const override = await s.ratelimit.setOverride(workspaceId, { namespace: 'email', identifier: 'vip', limit: 100, duration: 60_000 })
  const migration = await s.keyMigrations.create(workspaceId, 'sha256_base64')
  return {
    h,
    root: admin.key,
    rootKeyId: admin.rootKeyId,
    workspaceId,
    apiId: api.id,
    keyId,
    identityId: identity.id,
    permissionId: permission.id,
    permissionSlug: permission.slug,
    roleId: role.id,
    namespaceId: namespace.id,
    overrideId: override.id,
    migrationId: migration.id,
  }
}

/** A fresh fixture before each test of the file, closed after it. */
export function withAuditFixture(assign: (f: AuditFixture) => unknown): void {
  let current: Harness | undefined
  beforeEach(async () => {
    current = new Harness()
    await assign(await auditFixture(current))
  })
  afterEach(() => current?.close())
}

/** Every event of the workspace, newest first. */
export async function allEvents(h: Harness, workspaceId: string): Promise<AuditRecord[]> {
  return (await h.services.audit.list(workspaceId, { limit: 10_000 })).items
}

/** The events recorded while serving the request with this id. */
export async function eventsOfRequest(h: Harness, workspaceId: string, requestId: string): Promise<AuditRecord[]> {
  return (await allEvents(h, workspaceId)).filter((e) => e.requestId === requestId)
}

/** Rows in audit_logs, all workspaces. */
export const auditRowCount = (h: Harness): number => h.db.query<{ n: number }, []>('SELECT count(*) AS n FROM audit_logs').get()!.n

/** `type:id` of each resource, for compact comparisons. */
export const resourceRefs = (e: AuditRecord) => e.resources.map((r) => `${r.type}:${r.id}`)
