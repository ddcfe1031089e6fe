// audit.listLogs: the envelope and item shape, newest first, each filter
// (events, actorId, resourceId, since, until) alone and together, and cursor
// pagination that neither skips nor repeats an event.
import { describe, expect, test } from 'bun:test'
import { REQUEST_ID } from '../../support/harness'
import { type AuditFixture, ADMIN_NAME, USER_AGENT, withAuditFixture } from './fixture'

describe('audit.listLogs', () => {
  let f: AuditFixture
  const list = async (body: Record<string, unknown> = {}) => {
    const res = await f.h.call('/v2/audit.listLogs', body, f.root)
    expect(res.status).toBe(200)
    return res.body
  }
  withAuditFixture((fixture) => {
    f = fixture
  })

  test('answers the list envelope with each event in full, newest first', async () => {
    f.h.clock.advance(1000)
    const created = await f.h.call('/v2/keys.createKey', { apiId: f.apiId, name: 'web' }, f.root, { 'user-agent': USER_AGENT })
    const body = await list({ limit: 3 })
    expect(body).toEqual({ meta: { requestId: REQUEST_ID }, data: expect.any(Array), pagination: { cursor: expect.any(String), hasMore: true } })
    const [newest, ...older] = body.data
    expect(newest).toEqual({
      id: expect.stringMatching(/^audit_/),
      time: f.h.clock.now(),
      workspaceId: f.workspaceId,
      event: 'key.create',
      actor: { type: 'root_key', id: f.rootKeyId, name: ADMIN_NAME },
      resources: [
        { type: 'key', id: created.body.data.keyId, name: 'web' },
        { type: 'api', id: f.apiId, name: 'payments' },
      ],
      description: `Created key web (${created.body.data.keyId}) for API payments`,
      context: { requestId: created.body.meta.requestId, userAgent: USER_AGENT },
    })
    // Made by latch itself through the services (the fixture): no request facts at all.
    expect(older.map((e: any) => [e.event, e.actor, e.context])).toEqual([
      ['migration.create', { type: 'system', id: 'latch' }, {}],
      ['ratelimit.set_override', { type: 'system', id: 'latch' }, {}],
    ])
  })

  test('events[] keeps those names; actorId keeps that actor', async () => {
    const other = await f.h.services.rootKeys.create({ workspace: 'ws', name: 'second', permissions: ['*'] })
    await f.h.ok('apis.createApi', { name: 'one' }, f.root)
    await f.h.ok('apis.createApi', { name: 'two' }, other.key)
    await f.h.ok('identities.createIdentity', { externalId: 'user_7' }, other.key)

    const byEvent = await list({ events: ['api.create', 'identity.create'] })
    expect(byEvent.data.map((e: any) => e.description)).toEqual([
      'Created identity user_7',
      'Created API two',
      'Created API one',
      'Created identity user_1',
      'Created API payments',
    ])
    const byActor = await list({ actorId: other.rootKeyId })
    expect(byActor.data.map((e: any) => e.event)).toEqual(['identity.create', 'api.create'])
    const both = await list({ actorId: other.rootKeyId, events: ['api.create'] })
    expect(both.data.map((e: any) => e.description)).toEqual(['Created API two'])
    expect((await list({ actorId: 'latch', events: ['role.create'] })).data).toHaveLength(1)
    expect((await list({ actorId: 'rk_nobody' })).data).toEqual([])
  })

  test('resourceId keeps the events that touched that resource, whichever its role in them', async () => {
    await f.h.ok('keys.addRoles', { keyId: f.keyId, roles: ['reader'] }, f.root)
    await f.h.ok('keys.updateKey', { keyId: f.keyId, name: 'renamed' }, f.root)
    await f.h.ok('permissions.setRolePermissions', { roleId: f.roleId, permissions: ['docs.read', 'docs.write'] }, f.root)

    const ofKey = await list({ resourceId: f.keyId })
    expect(ofKey.data.map((e: any) => e.event)).toEqual(['key.update', 'key.add_roles', 'key.create'])
    const ofRole = await list({ resourceId: f.roleId })
    expect(ofRole.data.map((e: any) => e.event)).toEqual(['role.set_permissions', 'key.add_roles', 'role.create'])
    const ofPermission = await list({ resourceId: f.permissionId, events: ['role.set_permissions', 'permission.create'] })
    expect(ofPermission.data.map((e: any) => e.event)).toEqual(['role.set_permissions', 'permission.create'])
    expect((await list({ resourceId: 'key_nothing' })).data).toEqual([])
  })

  test('since and until are inclusive bounds in unix ms', async () => {
    const t0 = f.h.clock.now()
    for (const name of ['api1', 'api2', 'api3']) {
      f.h.clock.advance(60_000)
      await f.h.ok('apis.createApi', { name }, f.root)
    }
    const names = async (body: Record<string, unknown>) => (await list({ events: ['api.create'], ...body })).data.map((e: any) => e.description.slice(12))
    expect(await names({ since: t0 + 60_000 })).toEqual(['api3', 'api2', 'api1'])
    expect(await names({ since: t0 + 60_001 })).toEqual(['api3', 'api2'])
    expect(await names({ until: t0 + 120_000 })).toEqual(['api2', 'api1', 'payments'])
    expect(await names({ since: t0 + 120_000, until: t0 + 120_000 })).toEqual(['api2'])
    expect(await names({ since: t0 + 200_000 })).toEqual([])
  })

  test('pages through every event once, newest first, even within one millisecond', async () => {
    for (let i = 0; i < 7; i++) await f.h.ok('apis.createApi', { name: `api-${i}` }, f.root)
    const all = (await list({})).data.map((e: any) => e.id)
    // The fixture's 10 events and these 7.
    expect(all.length).toBe(17)
    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await list({ limit: 3, ...(cursor ? { cursor } : {}) })
      seen.push(...page.data.map((e: any) => e.id))
      cursor = page.pagination.cursor
      expect(page.pagination.hasMore).toBe(cursor !== undefined)
      pages++
    } while (cursor)
    expect(pages).toBe(6)
    expect(seen).toEqual(all)
    // Same-millisecond events keep the order they were written in.
    const names = (await list({ events: ['api.create'] })).data.map((e: any) => e.description)
    expect(names.slice(0, 3)).toEqual(['Created API api-6', 'Created API api-5', 'Created API api-4'])
  })

  test('a cursor keeps working with filters, and the default page is 100', async () => {
    for (let i = 0; i < 105; i++) await f.h.services.apis.create(f.workspaceId, `bulk-${i}`)
    const first = await list({ events: ['api.create'] })
    expect(first.data).toHaveLength(100)
    const second = await list({ events: ['api.create'], cursor: first.pagination.cursor })
    expect(second.data.map((e: any) => e.description)).toEqual([
      'Created API bulk-4',
      'Created API bulk-3',
      'Created API bulk-2',
      'Created API bulk-1',
      'Created API bulk-0',
      'Created API payments',
    ])
    expect(second.pagination).toEqual({ hasMore: false })
  })

  test('/v1/audit.listLogs answers the same', async () => {
    const res = await f.h.call('/v1/audit.listLogs', { limit: 1 }, f.root)
    expect(res.status).toBe(200)
    expect(res.body.data[0].event).toBe('migration.create')
  })
})
