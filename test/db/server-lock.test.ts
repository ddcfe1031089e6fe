// One server per database FILE, whatever the path, and a lock the operating
// system releases when its process dies (src/db/server-lock.ts). Real child
// processes: flock belongs to an open file description, and kill -9 is the
// point.
import { describe, expect, test } from 'bun:test'
import { existsSync, linkSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { DatabaseInUseError, lockDatabase } from '../../src/db/server-lock'
import { startServer } from '../../src/server'
import { post, serverProcesses, spawnServer } from '../support/server-process'

const { dirs, children, database, serve } = serverProcesses()

const inProcess = (dbPath: string) => startServer(loadConfig({ port: '0', host: '127.0.0.1', db: dbPath }, { LATCH_LOG: 'off' }), { handleSignals: false })

describe('after a crash', () => {
  test('kill -9 of a serving process never blocks the next server', async () => {
    const db = await database()
    const first = await serve(db.dbPath)
    expect((await post(first.url, 'keys.verifyKey', db.root, { key: db.key })).body.data.valid).toBe(true)
    first.proc.kill('SIGKILL')
    expect(await first.exited).not.toBe(0)
    const second = await serve(db.dbPath)
    expect(second.url).not.toBe('')
    expect((await post(second.url, 'keys.verifyKey', db.root, { key: db.key })).body.data.valid).toBe(true)
  })

  test('a lock file naming this very pid (a container restarts as pid 1) does not block', async () => {
    const db = await database()
    writeFileSync(`${db.dbPath}.lock`, String(process.pid))
    const server = await inProcess(db.dbPath)
    await server.stop()
    expect(existsSync(`${db.dbPath}.lock`)).toBe(false)
  })
})

describe('one server per file', () => {
  test.each(['symbolic link', 'hard link'])('a second server through a %s is refused while the first runs', async (kind) => {
    const db = await database()
    const linkDir = mkdtempSync(join(tmpdir(), 'latch-link-'))
    dirs.push(linkDir)
    const path = join(linkDir, 'other.db')
    if (kind === 'symbolic link') symlinkSync(db.dbPath, path)
    else linkSync(db.dbPath, path)
    const first = await serve(db.dbPath)

    // Another process: refused with the first one's pid, and it exits 1.
    const second = await spawnServer(path)
    children.push(second)
    expect(second.url).toBe('')
    expect(await second.exited).toBe(1)
    expect(second.stderr()).toContain(kind === 'hard link' ? 'Another latch server' : `Another latch server (pid ${first.pid}) is serving ${path}`)

    // This process too.
    await expect(inProcess(path)).rejects.toThrow(DatabaseInUseError)
    // The first is untouched and still the only one spending credits.
    expect((await post(first.url, 'keys.verifyKey', db.root, { key: db.key })).body.data).toMatchObject({ valid: true, credits: 9 })
  })

  test('within one process a second lock through any path is refused without reopening the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latch-lock-'))
    dirs.push(dir)
    const file = join(dir, 'latch.db')
    const release = lockDatabase(file)
    symlinkSync(file, join(dir, 'sym.db'))
    linkSync(file, join(dir, 'hard.db'))
    for (const path of [file, join(dir, 'sym.db'), join(dir, 'hard.db')]) {
      expect(() => lockDatabase(path)).toThrow(`This process is already serving ${path}.`)
    }
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(String(process.pid))
    release()
    expect(existsSync(`${file}.lock`)).toBe(false)
    lockDatabase(join(dir, 'hard.db'))()
  })

  test('a clean stop releases the lock and removes the info file', async () => {
    const db = await database()
    const first = await serve(db.dbPath)
    expect(readFileSync(`${db.dbPath}.lock`, 'utf8')).toBe(String(first.pid))
    first.proc.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(existsSync(`${db.dbPath}.lock`)).toBe(false)
    const server = await inProcess(db.dbPath)
    await server.stop()
  })
})
