import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { createApp } from '../../src/app'
import { openSqliteStores } from '../../src/db/sqlite'
import { createServices } from '../../src/services'
import { CliHarness } from './harness'

let h: CliHarness
beforeEach(() => (h = new CliHarness()))
afterEach(() => h.close())

describe('migrations create / list', () => {
  test('creates a migration that keys.migrateKeys and verifyKey accept, then lists it', async () => {
    const seeded = await h.json(['seed'])
    const out = await h.json(['migrations', 'create', '--workspace', 'development', '--algorithm', 'sha256_hex'])
    expect(out).toEqual({ migrationId: expect.stringMatching(/^mig_/), workspaceId: seeded.development.workspaceId, algorithm: 'sha256_hex' })

    // Use it through the real app on the same database file.
    const stores = openSqliteStores(h.dbPath)
    const app = createApp(createServices({ stores, clock: h.clock }), { log: null })
    const post = async (rpc: string, body: unknown) => {
      const res = await app.handle(
        new Request(`http://localhost/v2/${rpc}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${seeded.development.key}` },
          body: JSON.stringify(body),
        }),
      )
      return { status: res.status, body: (await res.json()) as any }
    }
    const { body: api } = await post('apis.createApi', { name: 'legacy' })
    const hex = createHash('sha256').update('old_key_1').digest('hex')
    const migrated = await post('keys.migrateKeys', { migrationId: out.migrationId, apiId: api.data.apiId, keys: [{ hash: hex }] })
    expect(migrated.status).toBe(200)
    expect(migrated.body.data.migrated).toHaveLength(1)
    stores.close()

    const listed = await h.json(['migrations', 'list', '--workspace', 'development'])
    expect(listed).toEqual([{ migrationId: out.migrationId, algorithm: 'sha256_hex', createdAt: h.clock.now(), pendingKeys: 1 }])
    const text = await h.run(['migrations', 'list', '--workspace', seeded.development.workspaceId])
    expect(text.stdout).toContain(out.migrationId)
    expect(text.stdout).toContain('sha256_hex')
  })

  test('an unknown algorithm or workspace is refused with exit code 2 and nothing written', async () => {
    await h.json(['seed'])
    const bad = await h.run(['migrations', 'create', '--workspace', 'development', '--algorithm', 'md5'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--algorithm must be one of sha256_base64, sha256_hex, got 'md5'")
    const missing = await h.run(['migrations', 'create', '--workspace', 'nowhere', '--algorithm', 'sha256_hex'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("no workspace named or with id 'nowhere'")
    await h.inspect((_, db) => expect(db.query('SELECT COUNT(*) AS n FROM key_migrations').get()).toEqual({ n: 0 }))
    const noFlag = await h.run(['migrations', 'create', '--workspace', 'development'])
    expect(noFlag.code).toBe(2)
  })
})
