// `latch backup` and `latch restore` (src/cli/backup.ts, src/db/sqlite/backup.ts):
// a copy taken while a real server process writes holds every acknowledged
// write, restore never replaces a database a server holds, and every refusal
// leaves the files as they were.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ManualClock } from '../../src/clock'
import { openSqliteStores } from '../../src/db/sqlite'
import { createServices } from '../../src/services'
import { runLatch } from '../support/latch-process'
import { post, serverProcesses } from '../support/server-process'
import { CliHarness } from './harness'
import { setTimeout as sleep } from 'node:timers/promises'

let h: CliHarness
const { database, serve } = serverProcesses()
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

/** The CLI in a process of its own, so that the test's HTTP load keeps running meanwhile. */
const runChild = (argv: string[]) => runLatch(argv)

const mode = (path: string) => statSync(path).mode & 0o777

const integrity = (path: string) => {
  const db = new Database(path, { readonly: true })
  try {
    return db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').all()
  } finally {
    db.close()
  }
}

/** Only the files a user put there: no temporary file, -wal or -shm left behind. */
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-') || f.endsWith('-wal') || f.endsWith('-shm'))

describe('latch backup', () => {
  test('a backup taken under write load is intact, 0600, and holds every write acknowledged before it began', async () => {
    const credits = 1_000_000
    const db = await database(credits)
    // Some megabytes, so that the copy takes long enough for writes to arrive while it runs.
    const stores = openSqliteStores(db.dbPath)
    const services = createServices({ stores, clock: new ManualClock(Date.now()) })
    const ws = (await services.workspaces.find('ws'))!.id
    for (let i = 0; i < 24; i++) await services.identities.create(ws, { externalId: `bulk_${i}`, meta: { blob: 'x'.repeat(500_000 + i) } })
    stores.close()
    const server = await serve(db.dbPath)
    const apiId = (await post(server.url, 'apis.createApi', db.root, { name: 'load' })).body.data.apiId

    const created: string[] = []
    let spent = 0
    let stop = false
    const createKeys = async () => {
      while (!stop) {
        const r = await post(server.url, 'keys.createKey', db.root, { apiId, credits: { remaining: 5 } })
        if (r.status === 200) created.push(r.body.data.keyId)
      }
    }
    const spendCredits = async () => {
      while (!stop) if ((await post(server.url, 'keys.verifyKey', db.root, { key: db.key })).body.data?.valid) spent++
    }
    const load = [createKeys(), createKeys(), spendCredits(), spendCredits()]
    while (created.length < 20 || spent < 20) await sleep(5)

    const acknowledged = [...created]
    const spentBefore = spent
    const out = join(db.dir, 'backup.db')
    const backup = await runChild(['backup', '--db', db.dbPath, out, '--json'])
    const createdDuring = created.length - acknowledged.length
    const spentAfter = spent
    stop = true
    await Promise.all(load)

    expect(backup.stderr).toBe('')
    expect(backup.code).toBe(0)
    expect(JSON.parse(backup.stdout)).toEqual({ backup: out, bytes: statSync(out).size, schemaVersion: expect.any(Number) })
    expect(createdDuring).toBeGreaterThan(0) // the server kept acknowledging writes while the backup ran
    expect(mode(out)).toBe(0o600)
    expect(integrity(out)).toEqual([{ integrity_check: 'ok' }])
    const copy = new Database(out, { readonly: true })
    try {
      const ids = new Set(
        copy
          .query<{ id: string }, []>('SELECT id FROM keys')
          .all()
          .map((r) => r.id),
      )
      for (const id of acknowledged) expect(ids.has(id)).toBe(true)
      const { remaining } = copy.query<{ remaining: number }, [string]>('SELECT remaining FROM keys WHERE id = ?').get(db.keyId)!
      expect(remaining).toBeLessThanOrEqual(credits - spentBefore)
      expect(remaining).toBeGreaterThanOrEqual(credits - spentAfter)
    } finally {
      copy.close()
    }
    expect(readdirSync(db.dir).filter((f) => f.includes('.tmp-'))).toEqual([])
  }, 60_000)

  test('refuses an existing <out> without --force and replaces it, 0600, with --force', async () => {
    expect((await h.run(['seed'])).code).toBe(0)
    const out = join(h.dir, 'backup.db')
    writeFileSync(out, 'precious')
    chmodSync(out, 0o644)
    const refused = await h.run(['backup', 'backup.db'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(`latch: ${out} already exists; pass --force to replace it.\n`)
    expect(readFileSync(out, 'utf8')).toBe('precious')

    const r = await h.run(['backup', 'backup.db', '--force'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Backed up ${h.dbPath} to ${out} (`)
    expect(r.stdout).toContain(`back up ${join(h.dir, 'data', 'master.key')} separately`)
    expect(mode(out)).toBe(0o600)
    expect(integrity(out)).toEqual([{ integrity_check: 'ok' }])
    expect(leftovers(h.dir)).toEqual([])
  })

  test('refuses a missing database (creating none) and the database itself as <out>', async () => {
    const missing = await h.run(['backup', 'out.db'])
    expect(missing).toMatchObject({ code: 1, stderr: `latch: There is no database at ${h.dbPath}.\n` })
    expect(h.dbExists()).toBe(false)
    expect(existsSync(join(h.dir, 'out.db'))).toBe(false)

    expect((await h.run(['seed'])).code).toBe(0)
    const itself = await h.run(['backup', h.dbPath, '--force'])
    expect(itself.code).toBe(1)
    expect(itself.stderr).toContain('is the database itself')
    expect(integrity(h.dbPath)).toEqual([{ integrity_check: 'ok' }])
  })
})

describe('latch restore', () => {
  test('refuses while a server holds the database; once stopped, --force restores it and a server serves the backup', async () => {
    const db = await database()
    const backup = join(db.dir, 'backup.db')
    expect((await h.run(['backup', '--db', db.dbPath, backup])).code).toBe(0)
    const server = await serve(db.dbPath)
    // A change after the backup, which the restore must undo.
    expect((await post(server.url, 'keys.deleteKey', db.root, { keyId: db.keyId })).status).toBe(200)
    const inode = statSync(db.dbPath).ino

    const refused = await h.run(['restore', backup, '--db', db.dbPath, '--force'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`latch: Not restoring: Another latch server (pid ${server.pid}) is serving ${db.dbPath}. Stop it first`)
    expect(statSync(db.dbPath).ino).toBe(inode)
    expect((await post(server.url, 'keys.verifyKey', db.root, { key: db.key })).body.data.code).toBe('NOT_FOUND')
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)

    const unforced = await h.run(['restore', backup, '--db', db.dbPath])
    expect(unforced).toMatchObject({ code: 1, stderr: `latch: ${db.dbPath} already exists; pass --force to replace it with the backup.\n` })
    expect(statSync(db.dbPath).ino).toBe(inode)

    const restored = await h.json(['restore', backup, '--db', db.dbPath, '--force'])
    expect(restored).toEqual({ restored: db.dbPath, from: backup, bytes: statSync(backup).size, schemaVersion: expect.any(Number), replaced: true })
    expect(mode(db.dbPath)).toBe(0o600)
    expect(leftovers(db.dir)).toEqual([])
    const again = await serve(db.dbPath)
    expect((await post(again.url, 'keys.verifyKey', db.root, { key: db.key })).body.data).toMatchObject({ valid: true, keyId: db.keyId })
  }, 30_000)

  test('restores into a path with no database without --force, and says so', async () => {
    expect((await h.run(['seed'])).code).toBe(0)
    expect((await h.run(['backup', 'b.db'])).code).toBe(0)
    const r = await h.run(['restore', 'b.db', '--db', 'restored.db'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Restored ${join(h.dir, 'b.db')} to ${join(h.dir, 'restored.db')} (a new database file;`)
    expect(r.stdout).toContain('Recoverable keys need the master key')
    expect(mode(join(h.dir, 'restored.db'))).toBe(0o600)
    expect(existsSync(join(h.dir, 'restored.db.lock'))).toBe(false)
    const seeded = await h.run(['root-keys', 'list', '--workspace', 'development', '--db', 'restored.db'])
    expect(seeded.stdout).toContain('seed')
  })

  /** Writes a bad backup into the harness directory; the test expects restore to refuse it. */
  const badBackups: [string, (path: string, good: string) => void, string][] = [
    ['a text file', (path) => writeFileSync(path, 'not a database at all, just text\n'.repeat(200)), 'is not a SQLite database, or is damaged'],
    [
      'a SQLite database of another program',
      (path) => {
        const other = new Database(path, { create: true })
        other.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)')
        other.close()
      },
      'is a SQLite database but not a latch database',
    ],
    [
      'a damaged latch backup',
      (path, good) => {
        const bytes = readFileSync(good)
        bytes.fill(0xab, 4096, 4096 * 6)
        writeFileSync(path, bytes)
      },
      'damaged',
    ],
    [
      'a backup from a newer latch',
      (path, good) => {
        writeFileSync(path, readFileSync(good))
        const newer = new Database(path)
        newer.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
        newer.close()
      },
      'The backup is at schema version 999, but this latch only knows versions up to',
    ],
  ]

  test.each(badBackups)('refuses %s, changing nothing', async (_, write, message) => {
    expect((await h.run(['seed'])).code).toBe(0)
    expect((await h.run(['backup', 'good.db'])).code).toBe(0)
    const bad = join(h.dir, 'bad.db')
    write(bad, join(h.dir, 'good.db'))
    const before = await h.snapshot()
    const inode = statSync(h.dbPath).ino

    const r = await h.run(['restore', 'bad.db', '--force'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(message)
    expect(statSync(h.dbPath).ino).toBe(inode)
    expect(await h.snapshot()).toEqual(before)
    // Into a new path: no empty database is left where the lock created one.
    const fresh = await h.run(['restore', 'bad.db', '--db', 'fresh.db'])
    expect(fresh.code).toBe(1)
    expect(existsSync(join(h.dir, 'fresh.db'))).toBe(false)
    expect(leftovers(h.dir)).toEqual([])
  })
})

describe('help', () => {
  test('backup and restore explain consistency, the master key and the server lock', async () => {
    const backup = await h.run(['backup', '--help'])
    expect(backup.code).toBe(0)
    expect(backup.stdout).toStartWith('Usage: latch backup <out> [--force] [--json] [--db <file>]\n')
    for (const text of ['VACUUM INTO', 'mode 0600', 'integrity_check', 'master.key', '{"backup","bytes","schemaVersion"}'])
      expect(backup.stdout).toContain(text)
    const restore = await h.run(['restore', '--help'])
    expect(restore.stdout).toStartWith('Usage: latch restore <backup> [--force] [--json] [--db <file>]\n')
    for (const text of ['stop the server first', '--force', 'master.key']) expect(restore.stdout).toContain(text)
    const general = await h.run(['--help'])
    expect(general.stdout).toContain('  backup ')
    expect(general.stdout).toContain('  restore ')
    expect(h.dbExists()).toBe(false)
  })

  test('a missing <out> or <backup> is a usage error', async () => {
    expect(await h.run(['backup'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing <out>') })
    expect(await h.run(['restore'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing <backup>') })
  })
})
