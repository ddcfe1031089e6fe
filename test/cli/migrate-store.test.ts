// latch migrate-store: a SQLite deployment copied into a real PostgreSQL
// database keeps working there (same key plaintexts and balances, root keys,
// recoverable keys, permissions, identities, ratelimits, audit log,
// analytics), a database that is not empty is refused with nothing written,
// and a server holding the file blocks the copy.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { ManualClock } from '../../src/clock'
import { openPostgresStores } from '../../src/db/postgres'
import { lockDatabase } from '../../src/db/server-lock'
import { openSqliteStores } from '../../src/db/sqlite'
import { SqliteEngine } from '../../src/db/sqlite/engine'
import { OwedRollups } from '../../src/db/sqlite/owed-rollups'
import type { Stores } from '../../src/db/stores'
import { createServices } from '../../src/services'
import { TEST_MASTER_KEY } from '../support/harness'
import { createEmptyDatabase, databaseUrl, dropTestDatabase } from '../support/postgres'
import { CliHarness } from './harness'

const clock = new ManualClock(Date.UTC(2026, 5, 15, 12, 0, 0))

/** latch's app over `stores`, driven in-process, with the test master key. */
function appOver(stores: Stores) {
  const services = createServices({ stores, clock, masterKey: { key: TEST_MASTER_KEY } })
  const app = createApp(services, { log: null })
  const call = async (rpc: string, body: unknown, key: string) => {
    const res = await app.handle(
      new Request(`http://localhost/v2/${rpc}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      }),
    )
    return { status: res.status, body: (await res.json()) as any }
  }
  return { services, call }
}

describe.skipIf(!process.env.LATCH_TEST_DATABASE_URL)('latch migrate-store', () => {
  let dir: string
  let cli: CliHarness
  const databases: string[] = []
  /** The deployment copied: its file, root key, and what each key must still answer. */
  let source: { path: string; root: string; key: string; recoverable: string; keyId: string; apiId: string; remaining: number }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latch-migrate-store-'))
    const path = join(dir, 'latch.db')
    const stores = openSqliteStores(path)
    const { services, call } = appOver(stores)
    const root = (await services.rootKeys.create({ workspace: 'acme', name: 'ops', permissions: ['*'] })).key
    const ok = async (rpc: string, body: unknown) => {
      const res = await call(rpc, body, root)
      if (res.status !== 200) throw new Error(`${rpc}: ${res.status} ${JSON.stringify(res.body)}`)
      return res.body.data
    }
    const { apiId } = await ok('apis.createApi', { name: 'payments' })
    await ok('permissions.createPermission', { name: 'read', slug: 'documents.read' })
    await ok('permissions.createRole', { name: 'reader', permissions: ['documents.read'] })
    await ok('identities.createIdentity', { externalId: 'customer_1', meta: { plan: 'pro' } })
    const created = await ok('keys.createKey', {
      apiId,
      name: 'main',
      externalId: 'customer_1',
      meta: { tier: 'gold' },
      credits: { remaining: 10 },
      roles: ['reader'],
      ratelimits: [{ name: 'requests', limit: 100, duration: 60_000, autoApply: true }],
    })
    const recoverable = await ok('keys.createKey', { apiId, name: 'shown again', recoverable: true })
    // Three verifications: events, rollups, a balance of 7 and a last-used time to carry over.
    for (let i = 0; i < 3; i++) await ok('keys.verifyKey', { key: created.key, permissions: 'documents.read' })
    await services.flush()
    stores.close()
    source = { path, root, key: created.key, recoverable: recoverable.key, keyId: created.keyId, apiId, remaining: 7 }
    cli = new CliHarness()
  })

  afterEach(async () => {
    for (const name of databases.splice(0)) await dropTestDatabase(name)
  })

  afterAll(() => {
    cli?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function emptyTarget(): Promise<string> {
    const name = await createEmptyDatabase()
    databases.push(name)
    return databaseUrl(name)
  }

  test('copies everything; in PostgreSQL the same keys verify, root keys work, recoverable keys decrypt', async () => {
    const to = await emptyTarget()
    const result = await cli.run(['migrate-store', '--from', source.path, '--to', to, '--json'], { LATCH_MASTER_KEY: TEST_MASTER_KEY })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    const report = JSON.parse(result.stdout)
    expect(report.tables).toMatchObject({
      workspaces: 1,
      root_keys: 1,
      apis: 1,
      keys: 2,
      key_last_used: 1,
      identities: 1,
      permissions: 1,
      roles: 1,
      keys_roles: 1,
      ratelimits: 1,
    })
    expect(report.tables.verification_events).toBe(3)
    expect(report.tables.audit_logs).toBeGreaterThanOrEqual(6)
    expect(report.masterKey).toContain('LATCH_MASTER_KEY')

    const stores = await openPostgresStores(to)
    try {
      const { services, call } = appOver(stores)
      expect((await call('keys.getKey', { keyId: source.keyId }, source.root)).body.data.lastUsedAt).toBe(clock.now())
      const verified = await call('keys.verifyKey', { key: source.key, permissions: 'documents.read' }, source.root)
      expect(verified.status).toBe(200)
      expect(verified.body.data).toMatchObject({
        valid: true,
        code: 'VALID',
        keyId: source.keyId,
        credits: source.remaining - 1,
        meta: { tier: 'gold' },
        identity: { externalId: 'customer_1', meta: { plan: 'pro' } },
        permissions: ['documents.read'],
        roles: ['reader'],
      })
      const decrypted = await call(
        'keys.getKey',
        { keyId: (await call('keys.whoami', { key: source.recoverable }, source.root)).body.data.keyId, decrypt: true },
        source.root,
      )
      expect(decrypted.body.data.plaintext).toBe(source.recoverable)
      const listed = await call('apis.listKeys', { apiId: source.apiId }, source.root)
      expect(listed.body.data.map((k: { name: string }) => k.name).sort()).toEqual(['main', 'shown again'])
      const audit = await call('audit.listLogs', {}, source.root)
      expect(audit.status).toBe(200)
      expect(audit.body.data.map((e: { event: string }) => e.event)).toContain('key.create')
      await services.flush()
      const analytics = await call(
        'analytics.getVerifications',
        { query: `SELECT count(*) AS n FROM key_verifications_v1 WHERE key_id = '${source.keyId}'` },
        source.root,
      )
      expect(analytics.body).toMatchObject({ data: [{ n: 4 }] })
      // New rows continue after the copied ones (identity sequences moved past them).
      expect((await call('apis.createApi', { name: 'second' }, source.root)).status).toBe(200)
    } finally {
      await stores.close()
    }
  })

  test('rollups a crashed server still owed are rebuilt before the copy', async () => {
    const path = join(dir, 'crashed.db')
    copyFileSync(source.path, path)
    // As the writer thread leaves it when the process dies between raw rows and rollups.
    const stores = openSqliteStores(path)
    const sql = new SqliteEngine(stores.db)
    const base = {
      workspaceId: 'ws_x',
      apiId: source.apiId,
      keyId: source.keyId,
      identityId: null,
      externalId: null,
      outcome: 'VALID',
      tags: [],
      creditsSpent: 0,
      latency: 1,
    }
    const events = Array.from({ length: 5 }, (_, i) => ({ ...base, requestId: `req_owed${i}`, time: clock.now() + i }))
    await sql.transaction(async () => {
      const [first, last] = (await stores.verificationEvents.insertRaw(events))!
      await new OwedRollups(sql).note('verifications', first, last)
    })
    stores.close()
    const to = await emptyTarget()
    expect(await cli.run(['migrate-store', '--from', path, '--to', to, '--json'])).toMatchObject({ code: 0, stderr: '' })
    const target = await openPostgresStores(to)
    try {
      expect(await target.engine.all("SELECT sum(count)::int AS n FROM verification_rollups_per_day WHERE workspace_id = 'ws_x'")).toEqual([{ n: 5 }])
    } finally {
      await target.close()
    }
  })

  test('a NUL character an older latch let SQLite keep is copied as U+FFFD, and counted', async () => {
    const path = join(dir, 'nul.db')
    copyFileSync(source.path, path)
    const stores = openSqliteStores(path)
    stores.db.query("UPDATE apis SET name = 'pay' || char(0) || 'ments' WHERE id = ?").run(source.apiId)
    stores.db.query("UPDATE keys SET name = 'ma' || char(0) || 'in' || char(0) WHERE id = ?").run(source.keyId)
    stores.close()
    const to = await emptyTarget()
    const result = await cli.run(['migrate-store', '--from', path, '--to', to, '--json'])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(result.stdout).nulReplaced).toEqual({ apis: 1, keys: 1 })
    const target = await openPostgresStores(to)
    try {
      const { call } = appOver(target)
      expect((await call('apis.getApi', { apiId: source.apiId }, source.root)).body.data.name).toBe('pay\ufffdments')
      expect((await call('keys.getKey', { keyId: source.keyId }, source.root)).body.data.name).toBe('ma\ufffdin\ufffd')
    } finally {
      await target.close()
    }
    const again = await cli.run(['migrate-store', '--from', path, '--to', await emptyTarget()])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('Values holding a NUL character, which PostgreSQL cannot store, were copied with U+FFFD in its place: apis 1, keys 1.\n')
  })

  test('a database that already holds rows is refused, and nothing is written to it', async () => {
    const to = await emptyTarget()
    const stores = await openPostgresStores(to)
    const { services } = appOver(stores)
    await services.rootKeys.create({ workspace: 'other', name: 'x', permissions: ['*'] })
    const before = await stores.engine.all('SELECT id, name FROM workspaces')
    const result = await cli.run(['migrate-store', '--from', source.path, '--to', to])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('is not empty (workspaces has rows)')
    expect(await stores.engine.all('SELECT id, name FROM workspaces')).toEqual(before)
    expect(await stores.engine.all('SELECT count(*)::int AS n FROM root_keys')).toEqual([{ n: 1 }])
    await stores.close()
  })

  test('a SQLite file that a server holds is refused: stop the server first', async () => {
    const to = await emptyTarget()
    const unlock = lockDatabase(source.path)
    try {
      const result = await cli.run(['migrate-store', '--from', source.path, '--to', to])
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('This process is already serving')
    } finally {
      unlock()
    }
  })

  test('bad arguments are refused with exit code 2', async () => {
    expect(await cli.run(['migrate-store', '--from', join(dir, 'missing.db'), '--to', 'postgres://x/y'])).toMatchObject({ code: 2 })
    const wrong = await cli.run(['migrate-store', '--from', source.path, '--to', 'mysql://x/y'])
    expect(wrong).toMatchObject({ code: 2, stderr: 'latch: --to must be a postgres:// URL, got mysql://...\n' })
    expect((await cli.run(['migrate-store', '--from', source.path])).code).toBe(2)
  })
})
