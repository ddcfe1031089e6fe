// Unknown root keys refused from memory (src/modules/rootkeys/known-hashes.ts):
// the server of a SQLite file holds every root key's hash, so a key nobody
// issued is a 401 without a read of the store, while every key that exists
// (issued here, rotated, or by the CLI through the file, within 2 ms of its
// commit) is accepted and a revoked one still refused.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { randomBase58Chars } from '../../../src/crypto'
import { openSqliteStores } from '../../../src/db/sqlite'
import { createServices } from '../../../src/services'
import { Harness } from '../../support/harness'
import { TEST_ENGINE } from '../../support/postgres'

const INVALID = 'The provided root key is invalid or has been revoked'
const randomRootKey = () => `unkey_${randomBase58Chars(32)}`
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0))

describe.skipIf(TEST_ENGINE !== 'sqlite')('root keys nobody issued', () => {
  let h: Harness
  let root: string
  let reads: number
  beforeEach(async () => {
    h = new Harness()
    root = await h.rootKey('acme')
    const store = h.stores.rootKeys
    const findByHash = store.findByHash.bind(store)
    reads = 0
    store.findByHash = (hash: string) => {
      reads++
      return findByHash(hash)
    }
  })
  afterEach(() => h.close())

  const apisList = (key: string) => h.call('/v2/apis.listKeys', { apiId: 'api_missing' }, key)

  test('are refused with 401 without a read of the store, once the hashes are loaded', async () => {
    // The first unknown key loads the hashes (and is itself read as before).
    expect((await apisList(randomRootKey())).status).toBe(401)
    await nextTurn()
    reads = 0
    for (let i = 0; i < 50; i++) {
      const res = await apisList(randomRootKey())
      expect(res.status).toBe(401)
      expect((res.body as { error: { detail: string } }).error.detail).toBe(INVALID)
    }
    expect(reads).toBe(0)
  })

  test('a root key issued here, rotated here, or by another process on the file is accepted at once', async () => {
    expect((await apisList(randomRootKey())).status).toBe(401)
    await nextTurn()
    const created = await h.ok('rootKeys.createRootKey', { name: 'second', permissions: ['*'] }, root)
    expect((await apisList(created.key)).status).toBe(404)
    const rotated = await h.ok('rootKeys.rotateRootKey', { rootKeyId: created.rootKeyId }, root)
    expect((await apisList(rotated.key)).status).toBe(404)
    expect((await apisList(created.key)).status).toBe(401)
    // Another process (the CLI) writes the file: its key works on the very next request.
    const cli = openSqliteStores(h.dbPath)
    const elsewhere = await createServices({ stores: cli }).rootKeys.create({ workspace: 'acme', name: 'cli', permissions: ['*'] })
    await cli.close()
    // The store is asked about other processes' changes at most every 2 ms.
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await apisList(elsewhere.key)).status).toBe(404)
  })

  test('a revoked root key is still refused', async () => {
    const created = await h.ok('rootKeys.createRootKey', { name: 'short-lived', permissions: ['*'] }, root)
    await h.ok('rootKeys.revokeRootKey', { rootKeyId: created.rootKeyId }, root)
    const res = await apisList(created.key)
    expect(res.status).toBe(401)
    expect((res.body as { error: { detail: string } }).error.detail).toBe(INVALID)
  })
})
