// Everything latch writes to disk is readable by its owner only (0600): the
// database and its -wal/-shm (openDatabase in src/db/sqlite/engine.ts), the
// server's lock info file and the master key, whatever the umask allows.
import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { openSqliteStores } from '../../src/db/sqlite'
import { closeDatabase, openDatabase } from '../../src/db/sqlite/database'
import { startServer } from '../../src/server'
import { createServices } from '../../src/services'
import { post } from '../support/server-process'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'latch-modes-'))
  dirs.push(dir)
  return dir
}

test('the database, its -wal and its -shm are created 0600', () => {
  const previous = process.umask(0o022)
  try {
    const path = join(tempDir(), 'nested', 'latch.db')
    const db = openDatabase(path)
    db.exec("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'a', 0)")
    expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual(['600', '600', '600'])
    closeDatabase(db)
  } finally {
    process.umask(previous)
  }
})

test('a served database, its lock info file and its master key are 0600', async () => {
  const previous = process.umask(0o022)
  const dir = tempDir()
  const config = loadConfig({ port: '0', host: '127.0.0.1', db: 'db/latch.db' }, { LATCH_LOG: 'off' }, dir)
  const server = await startServer(config, { handleSignals: false })
  try {
    // A root key written by another connection, as the CLI would.
    const services = createServices({ stores: openSqliteStores(config.dbPath) })
    const root = (await services.rootKeys.create({ workspace: 'ws', name: 'r', permissions: ['*'] })).key
    services.stores.close()
    const api = (await post(server.url, 'apis.createApi', root, { name: 'main' })).body.data.apiId
    expect((await post(server.url, 'keys.createKey', root, { apiId: api, recoverable: true })).status).toBe(200)
    const files = [config.dbPath, `${config.dbPath}-wal`, `${config.dbPath}-shm`, `${config.dbPath}.lock`, join(dir, 'db', 'master.key')]
    expect(files.map(mode)).toEqual(['600', '600', '600', '600', '600'])
  } finally {
    await server.stop()
    process.umask(previous)
  }
})
