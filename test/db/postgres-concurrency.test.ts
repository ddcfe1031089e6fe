// PostgreSQL under concurrency, as an operator runs it: two nodes
// (test/support/postgres-nodes.ts) with many requests in flight. The rules
// that check and then write hold under READ COMMITTED (src/db/postgres/engine.ts):
// a name created at once is created once (the others 409), a thing deleted at
// once is deleted once (the others 404), a root key rotated once, delete
// protection never bypassed, a ratelimit set never a mixture, an override one
// row; and the pool holds --database-pool-size connections. (keys.*: the
// .keys test beside this one.)
import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config'
import type { PostgresStores } from '../../src/db/postgres'
import { openStores } from '../../src/db/open'
import { createServices } from '../../src/services'
import { createEmptyDatabase, databaseUrl, dropTestDatabase } from '../support/postgres'
import { all200, HAVE_POSTGRES_AND_REDIS, IN_FLIGHT, type PostgresNodes, statuses, withPostgresNodes } from '../support/postgres-nodes'

describe.skipIf(!HAVE_POSTGRES_AND_REDIS)('PostgreSQL under concurrency', () => {
  let c: PostgresNodes
  withPostgresNodes((nodes) => {
    c = nodes
  })

  describe('the same name created at once: exactly one 200, every other a 409', () => {
    test.each([
      ['identities.createIdentity', { externalId: 'user_1' }, 'identities', 'identity.create'],
      ['permissions.createPermission', { name: 'read', slug: 'docs.read' }, 'permissions', 'permission.create'],
      ['permissions.createRole', { name: 'admin' }, 'roles', 'role.create'],
    ])('%s', async (rpc, body, table, event) => {
      const results = await c.together(IN_FLIGHT, rpc, () => body)
      expect(results.filter((r) => r.status === 200)).toHaveLength(1)
      expect(results.filter((r) => r.status !== 200).map((r) => r.status)).toEqual(Array.from({ length: IN_FLIGHT - 1 }, () => 409))
      expect(await c.count(`SELECT count(*) AS n FROM ${table}`)).toBe(1)
      expect(await c.events(event)).toBe(1)
    })
  })

  describe('the same thing deleted at once: exactly one 200, every other a 404', () => {
    test.each([
      ['permissions.deletePermission', 'permissions.createPermission', { name: 'read', slug: 'docs.read' }, { permission: 'docs.read' }, 'permission.delete'],
      ['permissions.deleteRole', 'permissions.createRole', { name: 'admin' }, { role: 'admin' }, 'role.delete'],
      [
        'ratelimit.deleteNamespace',
        'ratelimit.limit',
        { namespace: 'email', identifier: 'u', limit: 1, duration: 1000 },
        { namespace: 'email' },
        'ratelimit.delete_namespace',
      ],
    ])('%s', async (rpc, createRpc, create, body, event) => {
      await c.ok(createRpc, create)
      const results = await c.together(IN_FLIGHT, rpc, () => body)
      expect(results.filter((r) => r.status === 200)).toHaveLength(1)
      expect(results.filter((r) => r.status !== 200).map((r) => r.status)).toEqual(Array.from({ length: IN_FLIGHT - 1 }, () => 404))
      expect(await c.events(event)).toBe(1)
    })
  })

  test('rootKeys.rotateRootKey of one key at once: one rotation, the others find it revoked', async () => {
    const target = await createServices({ stores: c.nodes[0]!.stores }).rootKeys.create({ workspace: 'ws', name: 'target', permissions: ['api.*.read_api'] })
    const results = await c.together(16, 'rootKeys.rotateRootKey', () => ({ rootKeyId: target.rootKeyId }))
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(results.filter((r) => r.status !== 200).map((r) => [r.status, r.body.error.detail])).toEqual(
      Array.from({ length: 15 }, () => [400, `root key '${target.rootKeyId}' is already revoked or expired`]),
    )
    expect(await c.count("SELECT count(*) AS n FROM root_keys WHERE name = 'target' AND revoked_at IS NULL")).toBe(1)
    expect(await c.events('root_key.rotate')).toBe(1)
  })

  test('apis.deleteApi racing apis.updateApi turning delete protection on: one wins, the other sees it', async () => {
    const apis = await Promise.all(Array.from({ length: 16 }, (_, i) => c.ok('apis.createApi', { name: `race ${i}` })))
    const outcomes = await Promise.all(
      apis.map(async ({ apiId: id }, i) => {
        const [deleted, protectedNow] = await Promise.all([
          c.call('apis.deleteApi', { apiId: id }, i),
          c.call('apis.updateApi', { apiId: id, deleteProtection: true }, i + 1),
        ])
        return `${deleted.status}/${protectedNow.status}`
      }),
    )
    // Deleted first: the update finds no API. Protected first: the delete is refused. Never both.
    for (const outcome of outcomes) expect(['200/404', '412/200']).toContain(outcome)
  })

  test('a permission found inside a transaction cannot be deleted until it ends', async () => {
    // What keeps a slug checked as known (by a root key that may not create permissions) from becoming new before it is used.
    const { permissionId } = await c.ok('permissions.createPermission', { name: 'read', slug: 'docs.read' })
    const workspaceId = (await c.rows('SELECT workspace_id FROM permissions'))[0]!.workspace_id as string
    const [first, second] = c.nodes.map((node) => node.stores)
    let deleted: Promise<void> = Promise.resolve()
    const seen = await first!.transaction(async () => {
      await first!.rbac.findPermissionBySlug(workspaceId, 'docs.read')
      let done = false
      deleted = second!.rbac.deletePermission(permissionId).finally(() => {
        done = true
      })
      // Go on once the delete has either finished or is waiting for this transaction.
      const lockWaits =
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM permissions%'"
      // (Asked on the other node's pool: inside this transaction pg_stat_activity would stay as first read.)
      const waiting = async () => Number((await second!.engine.get<{ n: bigint }>(lockWaits))!.n) > 0
      while (!done && !(await waiting())) await Bun.sleep(5)
      return (await first!.rbac.findPermissionBySlug(workspaceId, 'docs.read'))?.id ?? null
    })
    await deleted
    expect(seen).toBe(permissionId)
    expect(await c.count('SELECT count(*) AS n FROM permissions')).toBe(0)
  })

  test('two replacements of one ratelimit set that read it at the same time never mix', async () => {
    // The interleaving a caller that does not lock the owner first would meet: both read, then both write.
    const { keyId } = await c.ok('keys.createKey', { apiId: c.apiId, ratelimits: [{ name: 'old', limit: 1, duration: 1000 }] })
    const workspaceId = (await c.rows('SELECT workspace_id FROM keys WHERE id = $1', [keyId]))[0]!.workspace_id as string
    const stores = c.nodes[0]!.stores
    let read = 0
    const bothRead = Promise.withResolvers<void>()
    const replace = (name: string) =>
      stores.transaction(async () => {
        const existing = await stores.ratelimitDefinitions.list({ keyId })
        if (++read === 2) bothRead.resolve()
        await bothRead.promise
        const insert = [{ id: `rl_${name}`, name, limit: 5, duration: 1000, autoApply: false }]
        await stores.ratelimitDefinitions.save(workspaceId, { keyId }, { insert, update: [], remove: existing.map((d) => d.id) }, Date.now())
      })
    await Promise.all([replace('first'), replace('second')])
    const names = (await c.rows('SELECT name FROM ratelimits WHERE key_id = $1', [keyId])).map((r) => r.name)
    expect(names.length === 1 && ['first', 'second'].includes(names[0] as string)).toBe(true)
  })

  test('ratelimit.limit in a new namespace from everywhere at once creates it once', async () => {
    const results = await c.together(IN_FLIGHT, 'ratelimit.limit', (i) => ({ namespace: 'email', identifier: `user_${i}`, limit: 10, duration: 60_000 }))
    expect(statuses(results)).toEqual(all200())
    expect(results.every((r) => r.body.data.success)).toBe(true)
    expect(await c.count('SELECT count(*) AS n FROM ratelimit_namespaces')).toBe(1)
    expect(await c.events('ratelimit.create_namespace')).toBe(1)
  })

  test('ratelimit.setOverride on one identifier from everywhere at once: one override, one id', async () => {
    await c.ok('ratelimit.limit', { namespace: 'email', identifier: 'warm', limit: 10, duration: 60_000 })
    const results = await c.together(IN_FLIGHT, 'ratelimit.setOverride', (i) => ({ namespace: 'email', identifier: 'user_1', limit: i + 1, duration: 60_000 }))
    expect(statuses(results)).toEqual(all200())
    const overrides = await c.rows('SELECT id, "limit" FROM ratelimit_overrides')
    expect(overrides).toHaveLength(1)
    expect(new Set(results.map((r) => r.body.data.overrideId))).toEqual(new Set([overrides[0]!.id]))
    expect(await c.events('ratelimit.set_override')).toBe(IN_FLIGHT)
  })
})

describe.skipIf(!HAVE_POSTGRES_AND_REDIS)('the PostgreSQL pool', () => {
  test('holds at most --database-pool-size connections, however many statements wait', async () => {
    const database = await createEmptyDatabase()
    const config = loadConfig({ databaseUrl: databaseUrl(database), redisUrl: process.env.LATCH_TEST_REDIS_URL!, databasePoolSize: '3' }, {})
    const opened = await openStores(config)
    try {
      const engine = (opened.stores as PostgresStores).engine
      const pids = await Promise.all(Array.from({ length: 12 }, () => engine.get<{ pid: number }>('SELECT pg_backend_pid() AS pid FROM pg_sleep(0.05)')))
      expect(new Set(pids.map((row) => row!.pid)).size).toBe(3)
    } finally {
      await opened.close()
      await dropTestDatabase(database)
    }
  })
})
