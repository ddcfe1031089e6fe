// No audit row ever holds a secret: after every kind of key and root key
// change, no key plaintext, hash, start, encrypted copy, root key or master
// key appears anywhere in audit_logs or audit_log_resources.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { hashKey } from '../../../src/crypto'
import { withActor } from '../../../src/modules/audit/context'
import { Harness, TEST_MASTER_KEY } from '../../support/harness'

describe('audit rows hold no secrets', () => {
  const h = new Harness({ masterKey: { key: TEST_MASTER_KEY } })
  const plaintexts: string[] = []
  let dump = ''

  beforeAll(async () => {
    const admin = await h.services.rootKeys.create({ workspace: 'ws', name: 'admin', permissions: ['*'] })
    plaintexts.push(admin.key)
    const root = admin.key
    const { apiId } = await h.ok('apis.createApi', { name: 'payments' }, root)
    const plain = await h.ok('keys.createKey', { apiId, prefix: 'sk', name: 'plain', credits: { remaining: 5 } }, root)
    const recoverable = await h.ok('keys.createKey', { apiId, prefix: 'sk', recoverable: true, externalId: 'user_1' }, root)
    plaintexts.push(plain.key, recoverable.key)
    for (const keyId of [plain.keyId, recoverable.keyId]) {
      plaintexts.push((await h.ok('keys.rerollKey', { keyId, expiration: 60_000 }, root)).key)
      await h.ok('keys.updateKey', { keyId, name: 'renamed', meta: { tier: 'gold' }, permissions: ['docs.read'], roles: [] }, root)
      await h.ok('keys.addPermissions', { keyId, permissions: ['docs.write'] }, root)
    }
    await h.ok('keys.updateCredits', { keyId: plain.keyId, operation: 'increment', value: 3 }, root)
    const legacy = 'legacy_SuperSecretValue123'
    plaintexts.push(legacy)
    const migration = await h.services.keyMigrations.create(await h.workspaceId('ws'), 'sha256_base64')
    await h.ok('keys.migrateKeys', { migrationId: migration.id, apiId, keys: [{ hash: hashKey(legacy), name: 'imported' }] }, root)
    await h.ok('keys.deleteKey', { keyId: plain.keyId, permanent: true }, root)
    // Root keys made, rotated and revoked as an operator would.
    await withActor({ actor: { type: 'cli', id: 'ops' } }, async () => {
      const ci = await h.services.rootKeys.create({ workspace: 'ws', name: 'ci', permissions: ['api.*.read_api'] })
      const rotated = await h.services.rootKeys.rotate(ci.rootKeyId, 1000)
      await h.services.rootKeys.revoke(rotated.rootKeyId)
      plaintexts.push(ci.key, rotated.key)
    })
    await h.services.flush()
    const rows = [...h.db.query('SELECT * FROM audit_logs').all(), ...h.db.query('SELECT * FROM audit_log_resources').all()]
    expect(rows.length).toBeGreaterThan(15)
    dump = JSON.stringify(rows)
  })
  afterAll(() => h.close())

  test('no plaintext (of keys, rerolled keys, imported keys or root keys) nor its hash', () => {
    expect(plaintexts.length).toBe(8)
    for (const secret of plaintexts) {
      expect(dump).not.toContain(secret)
      expect(dump).not.toContain(hashKey(secret))
      // Not even the secret part of it (whatever follows the prefix).
      expect(dump).not.toContain(secret.slice(secret.indexOf('_') + 1, secret.indexOf('_') + 13))
    }
  })

  test('nothing stored beside the keys: hashes, starts, encrypted copies, the master key', () => {
    const stored = [
      ...h.db.query<{ hash: string; start: string; encrypted: string | null }, []>('SELECT hash, start, encrypted FROM keys').all(),
      ...h.db.query<{ hash: string; start: string; encrypted: null }, []>('SELECT hash, start, NULL AS encrypted FROM root_keys').all(),
    ]
    expect(stored.length).toBeGreaterThan(5)
    for (const { hash, start, encrypted } of stored) {
      expect(dump).not.toContain(hash)
      if (start.length > 3) expect(dump).not.toContain(start)
      if (encrypted) expect(dump).not.toContain(encrypted)
    }
    expect(dump).not.toContain(TEST_MASTER_KEY)
  })
})
