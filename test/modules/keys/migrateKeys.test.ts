// keys.migrateKeys: imports keys by the hash another system stored; hex hashes
// are rewritten to latch's own on first verification; a migrated key's start
// never reveals its secret.
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { errorBody, type Harness } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let root: string
let apiId: string
let get: KeysFixture['get']
withKeys((f) => ({ h, root, apiId, get } = f))

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex')

describe('keys.migrateKeys', () => {
  test('sha256_base64 hashes verify immediately; duplicates are reported as failed', async () => {
    const ws = await h.workspaceId('ws')
    const migration = await h.services.keyMigrations.create(ws, 'sha256_base64')
    const plaintext = 'legacy_key_abcdef123456'
    const hash = createHash('sha256').update(plaintext).digest('base64')
    const res = await h.call(
      '/v2/keys.migrateKeys',
      { migrationId: migration.id, apiId, keys: [{ hash, name: 'imported', credits: { remaining: 2 } }, { hash }] },
      root,
    )
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({ migrated: [{ hash, keyId: expect.stringMatching(/^key_/) }], failed: [hash] })
    const v = await h.ok('keys.verifyKey', { key: plaintext }, root)
    expect(v).toMatchObject({ valid: true, name: 'imported', credits: 1 })
    expect((await get(v.keyId)).start).toBe('legacy_key_')
    const again = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash }] }, root)
    expect(again).toEqual({ migrated: [], failed: [hash] })
  })

  test('sha256_hex hashes are rewritten on the first verification with the migration id', async () => {
    const ws = await h.workspaceId('ws')
    const migration = await h.services.keyMigrations.create(ws, 'sha256_hex')
    const plaintext = 'old_system_key_99'
    const hex = createHash('sha256').update(plaintext).digest('hex')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: hex }] }, root)
    expect((await h.ok('keys.verifyKey', { key: plaintext }, root)).code).toBe('NOT_FOUND')
    const v = await h.ok('keys.verifyKey', { key: plaintext, migrationId: migration.id }, root)
    expect(v).toMatchObject({ valid: true, keyId: migrated[0].keyId })
    const row: any = h.db.query('SELECT hash, pending_migration_id FROM keys WHERE id = ?').get(migrated[0].keyId)
    expect(row).toEqual({ hash: createHash('sha256').update(plaintext).digest('base64'), pending_migration_id: null })
    expect((await h.ok('keys.verifyKey', { key: plaintext }, root)).code).toBe('VALID')
  })

  test('unknown migration or another workspace’s migration is a 404', async () => {
    const other = await h.rootKey('other')
    const foreign = await h.services.keyMigrations.create(await h.workspaceId('other'), 'sha256_base64')
    expect(other).toBeString()
    for (const migrationId of ['mig_unknown', foreign.id]) {
      const res = await h.call('/v2/keys.migrateKeys', { migrationId, apiId, keys: [{ hash: 'abcdef' }] }, root)
      expect(res.status).toBe(404)
      expect(res.body).toEqual(errorBody(404, 'Not Found', 'unkey/data/migration_not_found', 'The requested migration does not exist.'))
    }
  })
})

describe('keys.migrateKeys: a migrated key’s start never exposes its secret', () => {
  test('a secret full of underscores keeps at most prefix + 4 characters; reroll does not reuse it', async () => {
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_hex')
    const plaintext = 'Zm9vYmFyYmF6cXV4_c29tZXRoaW5nZ2FycGx5_x7Q'
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: sha256Hex(plaintext) }] }, root)
    expect((await h.ok('keys.verifyKey', { key: plaintext, migrationId: migration.id }, root)).valid).toBe(true)
    const { start } = await h.ok('keys.getKey', { keyId: migrated[0].keyId }, root)
    expect(start).toBe('Zm9vYmFyYmF6cXV4_c29t')
    const rerolled = await h.ok('keys.rerollKey', { keyId: migrated[0].keyId, expiration: 0 }, root)
    expect(rerolled.key).toStartWith('Zm9vYmFyYmF6cXV4_')
    expect(rerolled.key).not.toContain('c29tZXRoaW5n')
  })

  test('a long or non-alphanumeric head is not taken for a prefix', async () => {
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const plaintext = 'this-is-not-a-prefix_secretsecret'
    const hash = createHash('sha256').update(plaintext).digest('base64')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash }] }, root)
    await h.ok('keys.verifyKey', { key: plaintext }, root)
    expect((await h.ok('keys.getKey', { keyId: migrated[0].keyId }, root)).start).toBe('this')
  })

  test('a key of another workspace looked up by plaintext is not written to', async () => {
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const plaintext = 'shared_abcdefghijkl'
    const hash = createHash('sha256').update(plaintext).digest('base64')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash }] }, root)
    const other = await h.rootKey('other')
    expect((await h.ok('keys.verifyKey', { key: plaintext }, other)).code).toBe('NOT_FOUND')
    expect(h.db.query('SELECT start FROM keys WHERE id = ?').get(migrated[0].keyId)).toEqual({ start: '' })
  })
})

describe('keys.migrateKeys: completing a migration whose hash sits on a deleted key', () => {
  test('the deleted key gives up the hash and the migrated key verifies', async () => {
    const plaintext = 'reissued_key_1234'
    const { keyId } = await h.ok('keys.createKey', { apiId }, root)
    // Make the deleted key hold the native hash of `plaintext`.
    h.db.query('UPDATE keys SET hash = ? WHERE id = ?').run(createHash('sha256').update(plaintext).digest('base64'), keyId)
    await h.ok('keys.deleteKey', { keyId }, root)
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_hex')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: sha256Hex(plaintext) }] }, root)
    const res = await h.call('/v2/keys.verifyKey', { key: plaintext, migrationId: migration.id }, root)
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ valid: true, keyId: migrated[0].keyId })
  })
})
