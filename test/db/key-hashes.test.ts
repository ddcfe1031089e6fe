// The server's filter of stored key hashes (src/db/sqlite/key-hashes.ts): it
// may say "maybe" for a hash that is not stored, never "no" for one that is,
// whether the key was there at start-up, written while the filter was being
// built, written afterwards, or given a new hash by a migration, and across
// the rebuild that follows growth. Every other SQLite test runs with the
// filter on too (test/support/harness.ts).
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashKey, randomBase58Chars } from '../../src/crypto'
import { openSqliteStores, type SqliteStores } from '../../src/db/sqlite'
import { HashFilter } from '../../src/db/sqlite/key-hashes'
import { createServices } from '../../src/services'

const randomHash = () => hashKey(randomBase58Chars(24))

describe('HashFilter', () => {
  test('never says no for a hash it was given, and says maybe for few others at capacity', () => {
    const filter = new HashFilter(20_000)
    const held = Array.from({ length: 20_000 }, randomHash)
    for (const hash of held) filter.add(hash)
    expect(held.every((hash) => filter.mayHold(hash))).toBe(true)
    const others = Array.from({ length: 20_000 }, randomHash).filter((hash) => filter.mayHold(hash)).length
    // Sized for about 1 %; a few times that would still mean a broken filter is not caught.
    expect(others).toBeLessThan(20_000 * 0.03)
    expect(filter.added).toBe(20_000)
  })
})

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A database file with `count` keys issued through the services (no filter), closed; returns their plaintexts. */
async function fileWithKeys(count: number): Promise<{ path: string; keys: string[]; workspaceId: string; apiId: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'latch-key-hashes-'))
  dirs.push(dir)
  const path = join(dir, 'latch.db')
  const stores = openSqliteStores(path)
  const services = createServices({ stores })
  const { workspaceId } = await services.rootKeys.create({ workspace: 'acme', name: 'root', permissions: ['*'] })
  const api = await services.apis.create(workspaceId, 'payments')
  const keys: string[] = []
  for (let i = 0; i < count; i++) keys.push((await services.keys.create(workspaceId, { apiId: api.id })).key)
  await services.flush()
  await stores.close()
  return { path, keys, workspaceId, apiId: api.id }
}

/** `count` rows written straight into the keys table (like the first key's), each hash handed to `told` first; returns the hashes. */
function bulkInsert(stores: SqliteStores, count: number, told: (hash: string) => void = () => {}): string[] {
  const template = stores.db.query<{ workspace_id: string; api_id: string }, []>('SELECT workspace_id, api_id FROM keys LIMIT 1').get()!
  const insert = stores.db.prepare('INSERT INTO keys (id, workspace_id, api_id, hash, start, enabled, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)')
  const hashes: string[] = []
  stores.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const hash = randomHash()
      hashes.push(hash)
      told(hash)
      insert.run(`key_bulk${hashes.length}_${randomBase58Chars(6)}`, template.workspace_id, template.api_id, hash, 'sk_bulk', Date.now())
    }
  })()
  return hashes
}

/** `work` on the stores of a file with `count` keys, opened with the filter (not built yet), closed after. */
async function withFilter(count: number, work: (stores: SqliteStores, file: Awaited<ReturnType<typeof fileWithKeys>>) => Promise<void>) {
  const file = await fileWithKeys(count)
  const stores = openSqliteStores(file.path, { keyHashFilter: true })
  try {
    await work(stores, file)
  } finally {
    await stores.close()
  }
}

const found = async (stores: SqliteStores, workspaceId: string, key: string) => (await stores.keys.findLiveByHash(workspaceId, hashKey(key)))?.id ?? null

describe('KeyHashes, with the stores', () => {
  test('keys stored before start-up, during the build and after it are all found; unknown ones are not', async () => {
    await withFilter(30, async (stores, file) => {
      const services = createServices({ stores })
      const filter = stores.keyHashes!
      // Until the first build is done every hash is a "maybe": the store is read as before.
      expect(filter.ready).toBe(false)
      expect(filter.mayHold(randomHash())).toBe(true)
      // Enough rows that the build takes several turns of the event loop.
      bulkInsert(stores, 20_000)
      const building = filter.start()
      await new Promise((resolve) => setImmediate(resolve))
      expect(filter.ready).toBe(false)
      const during = `sk_${randomBase58Chars(24)}`
      const template = stores.db.query<{ id: string }, []>('SELECT id FROM keys LIMIT 1').get()!
      await stores.keys.insert({ ...(await stores.keys.findLive(file.workspaceId, template.id))!, id: 'key_during', hash: hashKey(during) })
      await building
      expect(filter.ready).toBe(true)
      const after = (await services.keys.create(file.workspaceId, { apiId: file.apiId })).key
      for (const key of [...file.keys, during, after]) {
        expect(filter.mayHold(hashKey(key))).toBe(true)
        expect(await found(stores, file.workspaceId, key)).not.toBeNull()
      }
      const unknown = Array.from({ length: 2_000 }, randomHash)
      expect(unknown.filter((hash) => filter.mayHold(hash)).length).toBeLessThan(60)
      expect(await stores.keys.findLiveByHash(file.workspaceId, unknown[0]!)).toBeNull()
      // Through verification: a stored key is valid, an unknown one NOT_FOUND.
      const auth = { workspaceId: file.workspaceId, rootKeyId: 'rk_test', permissions: new Set(['*']) }
      expect((await services.verifier.verify(auth, { key: after })).code).toBe('VALID')
      expect((await services.verifier.verify(auth, { key: `sk_${randomBase58Chars(24)}` })).code).toBe('NOT_FOUND')
    })
  })

  test('a hash given to a key by a migration is found', async () => {
    await withFilter(1, async (stores, file) => {
      await stores.keyHashes!.start()
      const row = stores.db.query<{ id: string }, []>('SELECT id FROM keys LIMIT 1').get()!
      const hash = randomHash()
      expect(stores.keyHashes!.mayHold(hash)).toBe(false)
      await stores.keys.completeMigration(row.id, hash, 'sk_new')
      expect(stores.keyHashes!.mayHold(hash)).toBe(true)
      expect((await stores.keys.findLiveByHash(file.workspaceId, hash))?.id).toBe(row.id)
    })
  })

  test('past its capacity a larger filter is built, and it holds every stored hash', async () => {
    await withFilter(3, async (stores, file) => {
      const filter = stores.keyHashes!
      await filter.start()
      // Rows written straight into the table after the first build, each told to the filter first as
      // the store does, until one more than the first filter was sized for (65,536) starts a rebuild.
      const hashes = bulkInsert(stores, 65_537, (hash) => filter.add(hash))
      await filter.built()
      expect(hashes.every((hash) => filter.mayHold(hash))).toBe(true)
      for (const key of file.keys) expect(filter.mayHold(hashKey(key))).toBe(true)
      // Sized for the table as it now is: still about 1 % of unknown hashes say maybe.
      expect(Array.from({ length: 5_000 }, randomHash).filter((hash) => filter.mayHold(hash)).length).toBeLessThan(150)
    })
  })
})
