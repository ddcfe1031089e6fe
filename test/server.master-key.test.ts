// The master key lives beside the database and belongs to it (src/config.ts,
// src/modules/keys/vault.ts): another working directory finds the same key,
// and a wrong or missing key is a 412 that never creates a second one.
import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { openSqliteStores } from '../src/db/sqlite'
import { closeDatabase, openDatabase } from '../src/db/sqlite/database'
import { migrations } from '../src/db/sqlite/migrations'
import { encryptSecret, hashKey } from '../src/crypto'
import { masterKeyFingerprint, parseMasterKey } from '../src/modules/keys/vault'
import { startServer } from '../src/server'
import { createServices } from '../src/services'
import { TEST_MASTER_KEY } from './support/harness'
import { post } from './support/server-process'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const OTHER_KEY = Buffer.alloc(32, 9).toString('base64')

/** Two working directories; the database is given relative to the first. */
function workspaceDirs() {
  const root = mkdtempSync(join(tmpdir(), 'latch-master-'))
  dirs.push(root)
  const a = join(root, 'a')
  const b = join(root, 'b')
  mkdirSync(a)
  mkdirSync(b)
  return { root, a, b, dbPath: join(a, 'store', 'latch.db') }
}

/** Serves `db` from `cwd` (env as given), with a root key; returns a caller and the server. */
async function serve(cwd: string, db: string, env: Record<string, string> = {}, workspace?: string) {
  const config = loadConfig({ port: '0', host: '127.0.0.1', db }, { LATCH_LOG: 'off', ...env }, cwd)
  const warnings: string[] = []
  const write = process.stderr.write
  process.stderr.write = ((chunk: string) => warnings.push(String(chunk)) > 0) as typeof write
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer(config, { handleSignals: false })
  } finally {
    process.stderr.write = write
  }
  const stores = openSqliteStores(config.dbPath)
  const root = (await createServices({ stores }).rootKeys.create({ workspace: workspace ?? 'ws', name: 'r', permissions: ['*'] })).key
  stores.close()
  const call = (route: string, body: unknown) => post(server.url, route, root, body)
  return { server, call, warnings, config }
}

const fingerprintOf = (dbPath: string) => {
  const db = openDatabase(dbPath)
  try {
    return db.query<{ value: string }, []>("SELECT value FROM settings WHERE name = 'master_key_fingerprint'").get()?.value ?? null
  } finally {
    closeDatabase(db)
  }
}

/** Creates an API and a recoverable key; returns their ids and the key. */
async function recoverableKey(call: (route: string, body: unknown) => Promise<{ status: number; body: any }>) {
  const apiId = (await call('apis.createApi', { name: 'main' })).body.data.apiId
  const created = await call('keys.createKey', { apiId, recoverable: true })
  expect(created.status).toBe(200)
  return { apiId, keyId: created.body.data.keyId as string, key: created.body.data.key as string }
}

describe('master key', () => {
  test('serving the same database from another working directory keeps decrypting, with one master key beside the database', async () => {
    const d = workspaceDirs()
    const first = await serve(d.a, 'store/latch.db')
    const made = await recoverableKey(first.call)
    await first.server.stop()
    expect(first.config.masterKeyFile).toBe(join(d.a, 'store', 'master.key'))

    const second = await serve(d.b, '../a/store/latch.db')
    try {
      expect((await second.call('keys.getKey', { keyId: made.keyId, decrypt: true })).body.data.plaintext).toBe(made.key)
      const another = await second.call('keys.createKey', { apiId: made.apiId, recoverable: true })
      expect((await second.call('keys.getKey', { keyId: another.body.data.keyId, decrypt: true })).body.data.plaintext).toBe(another.body.data.key)
      expect(second.warnings.join('')).not.toContain('recoverable keys unavailable')
    } finally {
      await second.server.stop()
    }
    expect(readdirSync(d.b)).toEqual([])
    expect(existsSync(join(d.a, 'data'))).toBe(false)
    expect(readdirSync(join(d.a, 'store')).filter((f) => f.includes('master'))).toEqual(['master.key'])
  })

  test('the database keeps a fingerprint of its master key, never the key', async () => {
    const d = workspaceDirs()
    const s = await serve(d.a, d.dbPath, { LATCH_MASTER_KEY: TEST_MASTER_KEY })
    expect(fingerprintOf(d.dbPath)).toBeNull()
    await recoverableKey(s.call)
    await s.server.stop()
    const stored = fingerprintOf(d.dbPath)
    expect(stored).toBe(masterKeyFingerprint(parseMasterKey(TEST_MASTER_KEY)))
    expect(stored).not.toContain(TEST_MASTER_KEY)
    expect(existsSync(join(d.a, 'store', 'master.key'))).toBe(false)
  })

  test('a different LATCH_MASTER_KEY answers 412 naming the cause, warns at start and creates no file', async () => {
    const d = workspaceDirs()
    const first = await serve(d.a, d.dbPath)
    const made = await recoverableKey(first.call)
    await first.server.stop()
    const before = readdirSync(join(d.a, 'store')).sort()

    const s = await serve(d.b, d.dbPath, { LATCH_MASTER_KEY: OTHER_KEY })
    try {
      expect(s.warnings.join('')).toContain("LATCH_MASTER_KEY is not the master key this database's recoverable keys are encrypted with")
      for (const [route, body] of [
        ['keys.getKey', { keyId: made.keyId, decrypt: true }],
        ['keys.createKey', { apiId: made.apiId, recoverable: true }],
        ['keys.rerollKey', { keyId: made.keyId, expiration: 0 }],
      ] as const) {
        const r = await s.call(route, body)
        expect(r.status).toBe(412)
        expect(r.body.error.detail).toContain('the configured master key is not the one')
      }
      // Keys that need no master key are unaffected.
      expect((await s.call('keys.createKey', { apiId: made.apiId })).status).toBe(200)
    } finally {
      await s.server.stop()
    }
    expect(readdirSync(join(d.a, 'store')).sort()).toEqual(before)
    expect(readdirSync(d.b)).toEqual([])
  })

  test('a missing master.key while the database has recoverable keys answers 412 and is never recreated', async () => {
    const d = workspaceDirs()
    const first = await serve(d.a, d.dbPath)
    const made = await recoverableKey(first.call)
    await first.server.stop()
    const file = join(d.a, 'store', 'master.key')
    rmSync(file)

    const s = await serve(d.a, d.dbPath)
    try {
      expect(s.warnings.join('')).toContain(`the master key file ${file} is missing`)
      for (const body of [{ keyId: made.keyId, decrypt: true }]) {
        expect((await s.call('keys.getKey', body)).body.error.detail).toContain('the master key is missing')
      }
      const created = await s.call('keys.createKey', { apiId: made.apiId, recoverable: true })
      expect(created.status).toBe(412)
      expect(created.body.error.detail).toContain('the master key is missing')
    } finally {
      await s.server.stop()
    }
    expect(existsSync(file)).toBe(false)
  })

  test('a database whose keys were encrypted before fingerprints were kept never gets a new master key', async () => {
    const d = workspaceDirs()
    // A database of the previous latch (schema 7) holding a key encrypted under TEST_MASTER_KEY.
    const made = { apiId: 'api_legacy', keyId: 'key_legacy', key: 'sk_legacy' }
    const schema7 = migrations.filter((m) => m.version < 8)
    const old = openDatabase(d.dbPath, schema7)
    old.exec("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_legacy', 'legacy', 0)")
    old.exec("INSERT INTO apis (id, workspace_id, name, created_at) VALUES ('api_legacy', 'ws_legacy', 'main', 0)")
    old
      .query('INSERT INTO keys (id, workspace_id, api_id, hash, start, encrypted, created_at) VALUES (?, ?, ?, ?, ?, ?, 0)')
      .run(made.keyId, 'ws_legacy', made.apiId, hashKey(made.key), 'sk_leg', encryptSecret(parseMasterKey(TEST_MASTER_KEY), made.key))
    closeDatabase(old)
    expect(fingerprintOf(d.dbPath)).toBe('unknown')

    const noKey = await serve(d.a, d.dbPath, {}, 'legacy')
    try {
      expect((await noKey.call('keys.createKey', { apiId: made.apiId, recoverable: true })).status).toBe(412)
    } finally {
      await noKey.server.stop()
    }
    expect(existsSync(join(d.a, 'store', 'master.key'))).toBe(false)
    // With its key configured, the next encryption records the fingerprint.
    const withKey = await serve(d.a, d.dbPath, { LATCH_MASTER_KEY: TEST_MASTER_KEY }, 'legacy')
    try {
      expect((await withKey.call('keys.getKey', { keyId: made.keyId, decrypt: true })).body.data.plaintext).toBe(made.key)
      expect((await withKey.call('keys.createKey', { apiId: made.apiId, recoverable: true })).status).toBe(200)
    } finally {
      await withKey.server.stop()
    }
    expect(fingerprintOf(d.dbPath)).toBe(masterKeyFingerprint(parseMasterKey(TEST_MASTER_KEY)))
  })
})
