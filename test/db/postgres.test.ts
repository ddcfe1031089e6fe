// The PostgreSQL engine against a real server (LATCH_TEST_DATABASE_URL, as CI
// sets it): nodes that start together migrate once, migration 3 carries
// every last-used time over, a use of a key deleted meanwhile is skipped
// without failing its batch, a database newer than this latch is refused,
// an unreachable or lost server is a 503 and never a 500, a root key changed
// by another connection reaches every node's externalVersion, and analytics
// queries are read-only and stopped at their deadline by the server.
import { afterEach, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { openPostgresStores, type PostgresStores, postgresStores } from '../../src/db/postgres'
import { migrate } from '../../src/db/postgres/migrate'
import { migrations } from '../../src/db/postgres/migrations'
import { AnalyticsQueryError } from '../../src/db/stores/analytics'
import { ApiError } from '../../src/errors'
import { createEmptyDatabase, databaseUrl, dropTestDatabase } from '../support/postgres'

describe.skipIf(!process.env.LATCH_TEST_DATABASE_URL)('PostgreSQL engine', () => {
  const databases: string[] = []
  const open: PostgresStores[] = []

  afterEach(async () => {
    for (const stores of open.splice(0)) await stores.close()
    for (const name of databases.splice(0)) await dropTestDatabase(name)
  })

  async function emptyDatabase(): Promise<string> {
    const name = await createEmptyDatabase()
    databases.push(name)
    return databaseUrl(name)
  }

  async function node(url: string): Promise<PostgresStores> {
    const stores = await openPostgresStores(url)
    open.push(stores)
    return stores
  }

  test('five nodes starting together on an empty database migrate it exactly once', async () => {
    const url = await emptyDatabase()
    const nodes = await Promise.all(Array.from({ length: 5 }, () => node(url)))
    expect(await nodes[0]!.engine.all('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual(
      migrations.map((m) => ({ version: m.version, name: m.name })),
    )
    // Each can work at once, and sees the others' rows.
    await nodes[1]!.workspaces.insert({ id: 'ws_1', name: 'one', createdAt: 1 })
    expect(await nodes[4]!.workspaces.findByIdOrName('one')).toEqual({ id: 'ws_1', name: 'one', createdAt: 1 })
  })

  test('migration 3 moves every last-used time out of keys into key_last_used', async () => {
    const url = await emptyDatabase()
    const pool = new SQL(url, { max: 1 })
    try {
      await migrate(
        pool,
        migrations.filter((m) => m.version < 3),
      )
      await pool.unsafe(`
        INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'one', 1);
        INSERT INTO apis (id, workspace_id, name, created_at) VALUES ('api_1', 'ws_1', 'a', 1);
        INSERT INTO keys (id, workspace_id, api_id, hash, start, created_at, last_used_at)
          VALUES ('key_1', 'ws_1', 'api_1', 'h1', 's', 1, 1700000000123), ('key_2', 'ws_1', 'api_1', 'h2', 's', 1, NULL);`)
    } finally {
      await pool.close()
    }
    const stores = await node(url)
    expect(await stores.engine.all('SELECT key_id, at::float8 AS at FROM key_last_used')).toEqual([{ key_id: 'key_1', at: 1700000000123 }])
    expect(await stores.engine.all("SELECT column_name FROM information_schema.columns WHERE table_name = 'keys' AND column_name = 'last_used_at'")).toEqual([])
    expect(await stores.keys.findLive('ws_1', 'key_1')).toMatchObject({ id: 'key_1', lastUsedAt: 1700000000123 })
    expect(await stores.keys.findLive('ws_1', 'key_2')).toMatchObject({ id: 'key_2', lastUsedAt: null })
  })

  test('a last-used time of a key being deleted meanwhile is skipped; the rest of the batch is written', async () => {
    const url = await emptyDatabase()
    const stores = await node(url)
    await stores.workspaces.insert({ id: 'ws_1', name: 'one', createdAt: 1 })
    await stores.apis.insert({ id: 'api_1', workspaceId: 'ws_1', name: 'a', deleteProtection: false, createdAt: 1 })
    for (const id of ['key_a', 'key_b'])
      await stores.engine.run(`INSERT INTO keys (id, workspace_id, api_id, hash, start, created_at) VALUES ($1, 'ws_1', 'api_1', $1, 's', 1)`, [id])
    const other = new SQL(url, { max: 1 })
    try {
      let commit = () => {}
      let deleted = () => {}
      const deletedNow = new Promise<void>((resolve) => (deleted = resolve))
      const deleting = other.begin(async (tx) => {
        await tx.unsafe("DELETE FROM keys WHERE id = 'key_a'")
        deleted()
        await new Promise<void>((resolve) => (commit = resolve))
      })
      await deletedNow
      // The delete holds key_a's row: the write of its use waits for it, then finds it gone.
      const touching = stores.keys.touchLastUsed([
        ['key_a', 5],
        ['key_b', 6],
      ])
      for (let waited = 0; (await stores.engine.all('SELECT 1 FROM pg_locks WHERE NOT granted')).length === 0; waited += 10) {
        if (waited > 5_000) throw new Error('the write of last-used times never waited for the delete')
        await Bun.sleep(10)
      }
      commit()
      await deleting
      await touching
    } finally {
      await other.close()
    }
    expect(await stores.engine.all('SELECT key_id, at::int AS at FROM key_last_used')).toEqual([{ key_id: 'key_b', at: 6 }])
  })

  test('a database migrated by a newer latch is refused at start', async () => {
    const url = await emptyDatabase()
    const first = await node(url)
    await first.engine.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
    await expect(openPostgresStores(url)).rejects.toThrow(
      `The database is at schema version 999, but this latch only knows versions up to ${migrations.at(-1)!.version}.`,
    )
  })

  test('a server that cannot be reached is a 503 for every call, not a 500', async () => {
    // A port nothing listens on: a loopback port just released.
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = probe.port
    probe.stop(true)
    const stores = postgresStores(`postgres://postgres@127.0.0.1:${port}/latch`, { busyDeadlineMs: 1_000 })
    const failure = await stores.apis.isLive('api_1').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ApiError)
    expect(failure).toMatchObject({ status: 503, title: 'Service Unavailable' })
    expect((failure as ApiError).detail).toContain('The database cannot be reached')
    await stores.close()
  })

  test('connections the server drops are a 503 or a reconnect, never a 500', async () => {
    const url = await emptyDatabase()
    const stores = await node(url)
    await stores.workspaces.insert({ id: 'ws_1', name: 'one', createdAt: 1 })
    const admin = new SQL(process.env.LATCH_TEST_DATABASE_URL!, { max: 1 })
    await admin.unsafe('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
      new URL(url).pathname.slice(1),
    ])
    await admin.close()
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        stores.workspaces.findByIdOrName('one').then(
          (found) => found?.id,
          (error: unknown) => (error instanceof ApiError ? error.status : error),
        ),
      ),
    )
    for (const outcome of outcomes) expect(['ws_1', 503]).toContain(outcome as string | number)
    // And the pool comes back.
    expect(await stores.workspaces.findByIdOrName('one')).toMatchObject({ id: 'ws_1' })
  })

  test("a root key changed through another node's connection changes this node's externalVersion", async () => {
    const url = await emptyDatabase()
    const [a, b] = [await node(url), await node(url)]
    await a.workspaces.insert({ id: 'ws_1', name: 'one', createdAt: 1 })
    const before = b.externalVersion()
    await a.rootKeys.insert({
      id: 'rk_1',
      workspaceId: 'ws_1',
      name: 'k',
      hash: 'h',
      start: 's',
      permissions: ['*'],
      createdAt: 1,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      seeded: false,
    })
    // Notifications arrive asynchronously; wait for this one (a revocation must arrive the same way).
    for (let waited = 0; b.externalVersion() === before && waited < 5_000; waited += 10) await Bun.sleep(10)
    expect(b.externalVersion()).not.toBe(before)
    // Recording use (last_used_at) is not a change that matters to a cache.
    const settled = b.externalVersion()
    await a.rootKeys.recordUse([['rk_1', 5]])
    await a.rootKeys.revoke('rk_1', 6)
    for (let waited = 0; b.externalVersion() === settled && waited < 5_000; waited += 10) await Bun.sleep(10)
    expect(b.externalVersion()).toBe(settled + 1)
  })

  test('analytics queries run read-only and are stopped by the server at their deadline', async () => {
    const stores = await node(await emptyDatabase())
    await expect(stores.analytics.query({ sql: 'SELECT $1::int + 1', params: [1] }, 5_000)).resolves.toEqual([[2]])
    const write = stores.analytics.query({ sql: "WITH w AS (INSERT INTO settings VALUES ('x', 'y') RETURNING 1) SELECT * FROM w", params: [] }, 5_000)
    await expect(write).rejects.toMatchObject({ reason: 'failed', message: expect.stringContaining('read-only transaction') })
    expect(await stores.settings.get('x')).toBeNull()
    const slow = await stores.analytics.query({ sql: 'SELECT pg_sleep(5)', params: [] }, 200).catch((error: unknown) => error)
    expect(slow).toBeInstanceOf(AnalyticsQueryError)
    expect(slow).toMatchObject({ reason: 'timeout' })
  })
})
