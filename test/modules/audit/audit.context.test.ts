// Who an event names as its actor and where it says the change came from:
// the root key of an HTTP call (with the socket's address over a real
// connection), the context a CLI command sets, or latch itself when nothing
// set one; and the mutations only services perform (workspace and root key
// changes, API delete protection, namespace deletion, key migrations).
import { describe, expect, test } from 'bun:test'
import { withActor } from '../../../src/modules/audit/context'
import { Harness, TEST_LISTEN } from '../../support/harness'
import { type AuditFixture, allEvents, eventsOfRequest, resourceRefs, withAuditFixture } from './fixture'
import { runtime } from '#runtime'

const ALICE = { actor: { type: 'cli', id: 'alice' } } as const

describe('audit actor and context', () => {
  let f: AuditFixture
  withAuditFixture((fixture) => {
    f = fixture
  })

  test('a change made with no context is latch’s own, with no request facts', async () => {
    const events = await allEvents(f.h, f.workspaceId)
    expect(events.length).toBeGreaterThan(5)
    for (const e of events) {
      expect(e.actor).toEqual({ type: 'system', id: 'latch' })
      expect(e).toMatchObject({ requestId: null, remoteAddr: null, userAgent: null })
    }
  })

  test('withActor names the actor of every change made inside it, and of nothing after it', async () => {
    await withActor(ALICE, () => f.h.services.apis.setDeleteProtection(f.workspaceId, f.apiId, true))
    await f.h.services.apis.setDeleteProtection(f.workspaceId, f.apiId, false)
    const [disabled, enabled] = await allEvents(f.h, f.workspaceId)
    expect(enabled).toMatchObject({ event: 'api.update', actor: { type: 'cli', id: 'alice' }, resources: [{ type: 'api', id: f.apiId, name: 'payments' }] })
    expect(enabled!.description).toBe('Enabled delete protection of API payments')
    expect(disabled).toMatchObject({ event: 'api.update', actor: { type: 'system', id: 'latch' } })
  })

  test('service-only mutations: workspace, root keys, namespace deletion, key migrations', async () => {
    const s = f.h.services
    const created = await withActor(ALICE, () => s.rootKeys.create({ workspace: 'other', name: 'deploy', permissions: ['api.*.read_api'] }))
    const rotated = await withActor(ALICE, () => s.rootKeys.rotate(created.rootKeyId, 60_000))
    await withActor(ALICE, () => s.rootKeys.revoke(rotated.rootKeyId))
    // Revoking an already revoked key changes nothing and records nothing.
    await withActor(ALICE, () => s.rootKeys.revoke(rotated.rootKeyId))
    await withActor(ALICE, () => s.ratelimit.deleteNamespace(f.workspaceId, f.namespaceId))
    const migration = await withActor(ALICE, () => s.keyMigrations.create(f.workspaceId, 'sha256_hex'))

    const other = await allEvents(f.h, created.workspaceId)
    expect(other.map((e) => [e.event, resourceRefs(e)]).reverse()).toEqual([
      ['workspace.create', [`workspace:${created.workspaceId}`]],
      ['root_key.create', [`root_key:${created.rootKeyId}`]],
      ['root_key.rotate', [`root_key:${created.rootKeyId}`, `root_key:${rotated.rootKeyId}`]],
      ['root_key.revoke', [`root_key:${rotated.rootKeyId}`]],
    ])
    for (const e of other) expect(e.actor).toEqual({ type: 'cli', id: 'alice' })
    expect(other.at(-2)!.description).toBe('Created root key deploy with permissions api.*.read_api')

    const [migrationEvent, namespaceEvent] = await allEvents(f.h, f.workspaceId)
    expect(namespaceEvent).toMatchObject({
      event: 'ratelimit.delete_namespace',
      resources: [{ type: 'ratelimit_namespace', id: f.namespaceId, name: 'email' }],
    })
    expect(migrationEvent).toMatchObject({ event: 'migration.create', resources: [{ type: 'migration', id: migration.id }] })
  })

  test('concurrent calls of two root keys each record their own actor and request', async () => {
    const other = await f.h.services.rootKeys.create({ workspace: 'ws', name: 'second', permissions: ['api.*.create_api'] })
    const calls = Array.from({ length: 20 }, (_, i) => f.h.call('/v2/apis.createApi', { name: `api-${i}` }, i % 2 ? other.key : f.root))
    const responses = await Promise.all(calls)
    for (const [i, res] of responses.entries()) {
      const [event, ...more] = await eventsOfRequest(f.h, f.workspaceId, res.body.meta.requestId)
      expect(more).toEqual([])
      expect(event!.actor).toEqual(i % 2 ? { type: 'root_key', id: other.rootKeyId, name: 'second' } : { type: 'root_key', id: f.rootKeyId, name: 'auditor' })
      expect(event!.resources).toEqual([{ type: 'api', id: res.body.data.apiId, name: `api-${i}` }])
    }
  })
})

describe('audit context over a real socket', () => {
  test('the remote address is the peer of the connection', async () => {
    const h = new Harness()
    const root = await h.rootKey('ws')
    // latch's own listener (src/runtime/), as the server uses it.
    const server = runtime.listen(h.app, TEST_LISTEN)
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/v2/apis.createApi`, {
        method: 'POST',
        headers: { authorization: `Bearer ${root}`, 'content-type': 'application/json', 'user-agent': 'curl/8.5.0', 'x-forwarded-for': '203.0.113.9' },
        body: JSON.stringify({ name: 'socket' }),
      })
      expect(res.status).toBe(200)
      const requestId = res.headers.get('x-request-id')!
      const [event] = await eventsOfRequest(h, await h.workspaceId('ws'), requestId)
      // X-Forwarded-For is not trusted: the address is the socket's.
      expect(event).toMatchObject({ event: 'api.create', requestId, remoteAddr: '127.0.0.1', userAgent: 'curl/8.5.0' })
    } finally {
      await server.stop()
      await h.close()
    }
  })
})
