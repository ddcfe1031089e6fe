// The server as `latch serve` runs it: a real socket, a real SQLite file, and
// a clean stop that leaves nothing behind in memory.
import { afterEach, describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../src/clock'
import { loadConfig } from '../src/config'
import { openSqliteStores } from '../src/db/sqlite'
import { closeDatabase, openDatabase } from '../src/db/sqlite/database'
import { DatabaseInUseError } from '../src/db/server-lock'
import { startServer } from '../src/server'
import { createServices } from '../src/services'
import { spawnServer } from './support/server-process'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'latch-server-'))
  dirs.push(dir)
  const dbPath = join(dir, 'latch.db')
  const clock = new ManualClock(Date.UTC(2026, 5, 15, 12))
  // Prepare data directly, as the CLI would.
  const stores = openSqliteStores(dbPath)
  const services = createServices({ stores, clock })
  const root = (await services.rootKeys.create({ workspace: 'ws', name: 'r', permissions: ['*'] })).key
  const ws = (await services.workspaces.find('ws'))!.id
  const api = await services.apis.create(ws, 'main')
  const key = await services.keys.create(ws, { apiId: api.id, credits: { remaining: 10, refill: { interval: 'daily', amount: 10 } } })
  stores.close()
  const config = { ...loadConfig({ port: '0', host: '127.0.0.1', db: dbPath }, { LATCH_LOG: 'off' }, dir) }
  return { dir, dbPath, clock, root, key, config }
}

const verify = (url: string, root: string, key: string) =>
  fetch(`${url}/v2/keys.verifyKey`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
    body: JSON.stringify({ key }),
  }).then((r) => r.json() as Promise<any>)

describe('serve', () => {
  test('a clean stop writes spent credits, events and last-used times, and checkpoints the WAL', async () => {
    const s = await setup()
    const server = await startServer(s.config, { clock: s.clock, handleSignals: false })
    for (let i = 0; i < 3; i++) expect((await verify(server.url, s.root, s.key.key)).data.valid).toBe(true)
    await server.stop()
    const db = openDatabase(s.dbPath)
    expect(db.query('SELECT remaining, (SELECT at FROM key_last_used WHERE key_id = id) AS last_used_at FROM keys WHERE id = ?').get(s.key.keyId)).toEqual({
      remaining: 7,
      last_used_at: s.clock.now(),
    })
    expect(db.query('SELECT COUNT(*) AS n FROM verification_events').get()).toEqual({ n: 3 })
    closeDatabase(db)
    // Checkpointed: the log is empty, or gone (Deno's SQLite removes it when the last connection closes).
    expect(existsSync(`${s.dbPath}-wal`) ? statSync(`${s.dbPath}-wal`).size : 0).toBe(0)
  })

  test('while it runs, events, their rollups and last-used times reach the database with no flush asked for', async () => {
    const s = await setup()
    const server = await startServer(s.config, { clock: s.clock, handleSignals: false })
    try {
      for (let i = 0; i < 3; i++) expect((await verify(server.url, s.root, s.key.key)).data.valid).toBe(true)
      const db = openDatabase(s.dbPath)
      const counts = () =>
        db
          .query(
            `SELECT (SELECT COUNT(*) FROM verification_events) AS events,
               (SELECT sum(count) FROM verification_rollups_per_minute) AS minute,
               (SELECT sum(count) FROM verification_rollups_per_hour) AS hour,
               (SELECT sum(count) FROM verification_rollups_per_day) AS day,
               (SELECT sum(count) FROM verification_rollups_per_month) AS month,
               (SELECT at FROM key_last_used) AS lastUsed`,
          )
          .get()
      const want = { events: 3, minute: 3, hour: 3, day: 3, month: 3, lastUsed: s.clock.now() }
      // The timer's flush hands the events over each second; the writer writes their rollups within a second of that.
      const deadline = Date.now() + 15_000
      while (JSON.stringify(counts()) !== JSON.stringify(want) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(counts()).toEqual(want)
      closeDatabase(db)
    } finally {
      await server.stop()
    }
  }, 20_000)

  test('a refill missed while the server was down happens when it starts', async () => {
    const s = await setup()
    let server = await startServer(s.config, { clock: s.clock, handleSignals: false })
    for (let i = 0; i < 10; i++) await verify(server.url, s.root, s.key.key)
    expect((await verify(server.url, s.root, s.key.key)).data.code).toBe('USAGE_EXCEEDED')
    await server.stop()
    // Two days later latch starts again: the start-up job refills before any verification.
    s.clock.set(Date.UTC(2026, 5, 17, 8))
    server = await startServer(s.config, { clock: s.clock, handleSignals: false })
    const db = openDatabase(s.dbPath)
    expect(db.query('SELECT remaining, last_refill_at FROM keys WHERE id = ?').get(s.key.keyId)).toEqual({ remaining: 10, last_refill_at: s.clock.now() })
    closeDatabase(db)
    expect((await verify(server.url, s.root, s.key.key)).data).toMatchObject({ valid: true, credits: 9 })
    await server.stop()
  })

  test('a port that is taken fails start-up and releases the database', async () => {
    const a = await setup()
    const b = await setup()
    const first = await startServer(a.config, { clock: a.clock, handleSignals: false })
    await expect(startServer({ ...b.config, port: first.port }, { clock: b.clock, handleSignals: false })).rejects.toThrow()
    expect(existsSync(`${b.dbPath}.lock`)).toBe(false)
    // b's database is free again.
    const second = await startServer(b.config, { clock: b.clock, handleSignals: false })
    await second.stop()
    await first.stop()
  })

  test('only one server per database file; a stale lock is taken over', async () => {
    const s = await setup()
    const first = await startServer(s.config, { clock: s.clock, handleSignals: false })
    expect(readFileSync(`${s.dbPath}.lock`, 'utf8')).toBe(String(process.pid))
    await expect(startServer(s.config, { clock: s.clock, handleSignals: false })).rejects.toThrow(DatabaseInUseError)
    await first.stop()
    expect(existsSync(`${s.dbPath}.lock`)).toBe(false)
    // A lock left by a process that no longer exists does not block.
    const dead = spawnSync('true').pid
    writeFileSync(`${s.dbPath}.lock`, String(dead))
    const other = { ...s.config }
    const again = await startServer(other, { clock: s.clock, handleSignals: false })
    await again.stop()
  })

  test('another process holding the lock blocks start-up with a clear message', async () => {
    const s = await setup()
    // The lock is the operating system's (flock), so the holder is a real server process.
    const other = await spawnServer(s.dbPath)
    try {
      await expect(startServer(s.config, { clock: s.clock, handleSignals: false })).rejects.toThrow(
        `Another latch server (pid ${other.pid}) is serving ${s.dbPath}`,
      )
    } finally {
      other.proc.kill('SIGKILL')
      await other.exited
    }
  })
})
