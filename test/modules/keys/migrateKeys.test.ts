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

describe('keys.migrateKeys: hashes are unique per workspace, so other workspaces never show', () => {
  const base64 = (plaintext: string) => createHash('sha256').update(plaintext).digest('base64')

  /** Workspace `other` with its own API and sha256_base64 (or hex) migration. */
  async function otherWorkspace(algorithm: 'sha256_base64' | 'sha256_hex' = 'sha256_base64') {
    const root = await h.rootKey('other')
    const { apiId } = await h.ok('apis.createApi', { name: 'theirs' }, root)
    const migration = await h.services.keyMigrations.create(await h.workspaceId('other'), algorithm)
    return { root, apiId, migrationId: migration.id }
  }

  test('a hash held in another workspace migrates; each workspace verifies and identifies its own key', async () => {
    const plaintext = 'both_sides_key_123456'
    const hash = base64(plaintext)
    const other = await otherWorkspace()
    const theirs = await h.ok('keys.migrateKeys', { migrationId: other.migrationId, apiId: other.apiId, keys: [{ hash, name: 'theirs' }] }, other.root)
    // Looked up (and cached as absent) in this workspace before it imports the hash.
    expect((await h.ok('keys.verifyKey', { key: plaintext }, root)).code).toBe('NOT_FOUND')
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const mine = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash, name: 'mine' }] }, root)
    expect(mine).toEqual({ migrated: [{ hash, keyId: expect.stringMatching(/^key_/) }], failed: [] })
    expect(mine.migrated[0].keyId).not.toBe(theirs.migrated[0].keyId)
    expect(await h.ok('keys.verifyKey', { key: plaintext }, root)).toMatchObject({ valid: true, keyId: mine.migrated[0].keyId, name: 'mine' })
    expect(await h.ok('keys.verifyKey', { key: plaintext }, other.root)).toMatchObject({ valid: true, keyId: theirs.migrated[0].keyId, name: 'theirs' })
    expect((await h.ok('keys.whoami', { key: plaintext }, root)).keyId).toBe(mine.migrated[0].keyId)
    expect((await h.ok('keys.whoami', { key: plaintext }, other.root)).keyId).toBe(theirs.migrated[0].keyId)
    // Deleting one workspace's key leaves the other's verifying.
    await h.ok('keys.deleteKey', { keyId: theirs.migrated[0].keyId }, other.root)
    expect((await h.ok('keys.verifyKey', { key: plaintext }, other.root)).code).toBe('NOT_FOUND')
    expect((await h.ok('keys.verifyKey', { key: plaintext }, root)).keyId).toBe(mine.migrated[0].keyId)
  })

  test('the answer is the same whether or not another workspace holds the hash (live, deleted or created)', async () => {
    const other = await otherWorkspace()
    const created = await h.ok('keys.createKey', { apiId: other.apiId }, other.root)
    const deleted = base64('deleted_elsewhere_1')
    await h.ok(
      'keys.migrateKeys',
      { migrationId: other.migrationId, apiId: other.apiId, keys: [{ hash: base64('live_elsewhere_1') }, { hash: deleted }] },
      other.root,
    )
    await h.ok('keys.deleteKey', { keyId: (await h.ok('keys.verifyKey', { key: 'deleted_elsewhere_1' }, other.root)).keyId }, other.root)
    const held = [base64(created.key), base64('live_elsewhere_1'), deleted]
    const free = [base64('nowhere_else_1'), base64('nowhere_else_2'), base64('nowhere_else_3')]
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const shape = (r: any) => ({ migrated: r.migrated.map((m: any) => [m.hash, m.keyId.slice(0, 4)]), failed: r.failed })
    for (const hashes of [held, free]) {
      const res = await h.call('/v2/keys.migrateKeys', { migrationId: migration.id, apiId, keys: hashes.map((hash) => ({ hash })) }, root)
      expect(res.status).toBe(200)
      expect(shape(res.body.data)).toEqual({ migrated: hashes.map((hash) => [hash, 'key_']), failed: [] })
    }
    expect((await h.ok('keys.verifyKey', { key: created.key }, root)).valid).toBe(true)
    expect((await h.ok('keys.verifyKey', { key: created.key }, other.root)).keyId).toBe(created.keyId)
  })

  test('a sha256_hex key completes although another workspace holds its native hash', async () => {
    const plaintext = 'hex_key_held_elsewhere_9'
    const other = await otherWorkspace()
    const theirs = await h.ok('keys.migrateKeys', { migrationId: other.migrationId, apiId: other.apiId, keys: [{ hash: base64(plaintext) }] }, other.root)
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_hex')
    const { migrated } = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: sha256Hex(plaintext) }] }, root)
    expect(await h.ok('keys.verifyKey', { key: plaintext, migrationId: migration.id }, root)).toMatchObject({ valid: true, keyId: migrated[0].keyId })
    expect(await h.ok('keys.verifyKey', { key: plaintext }, other.root)).toMatchObject({ valid: true, keyId: theirs.migrated[0].keyId })
    expect(h.db.query('SELECT hash FROM keys WHERE id = ?').get(theirs.migrated[0].keyId)).toEqual({ hash: base64(plaintext) })
  })

  test('a hash held in the same workspace (live or deleted) still fails', async () => {
    const live = await h.ok('keys.createKey', { apiId }, root)
    const gone = await h.ok('keys.createKey', { apiId }, root)
    await h.ok('keys.deleteKey', { keyId: gone.keyId }, root)
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    const hashes = [base64(live.key), base64(gone.key)]
    const res = await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: hashes.map((hash) => ({ hash })) }, root)
    expect(res).toEqual({ migrated: [], failed: hashes })
    expect((await h.ok('keys.verifyKey', { key: live.key }, root)).keyId).toBe(live.keyId)
  })
})
