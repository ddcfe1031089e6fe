// The request thread's writes go before the analytics writer thread's next
// transaction (EngineOptions.lockWaiters): a write that meets the lock counts
// itself in a shared counter until it gets it, and the writer's engine waits
// for that counter to fall to zero (at most 50 ms) before each transaction.
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Database, openDatabase } from '../../src/db/sqlite/database'
import { SqliteEngine } from '../../src/db/sqlite/engine'
import { lockWaiterCells } from '../../src/db/sqlite/lock-wait'

const dirs: string[] = []
const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'latch-lock-waiters-'))
  dirs.push(dir)
  const path = join(dir, 'latch.db')
  const db = openDatabase(path)
  db.exec('CREATE TABLE t (x INTEGER)')
  db.close()
  return path
}

function connect(path: string): Database {
  const db = openDatabase(path)
  open.push(db)
  return db
}

describe('writes waiting for the lock', () => {
  test('a request-thread write that meets the lock is counted until it has it', async () => {
    const path = file()
    const counter = lockWaiterCells()
    const requests = new SqliteEngine(connect(path), { blockingWaitMs: 0, lockWaiters: { counter, role: 'announce' } })
    const other = connect(path)
    other.exec('BEGIN IMMEDIATE')
    const write = requests.run(() => requests.db.query('INSERT INTO t VALUES (1)').run())
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(Atomics.load(counter, 0)).toBe(1)
    other.exec('COMMIT')
    await write
    expect(Atomics.load(counter, 0)).toBe(0)
    expect(other.query('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 })
  })

  test('the writer thread’s engine tells whether the request thread wrote since it last asked (reads, even through run, do not count)', async () => {
    const path = file()
    const counter = lockWaiterCells()
    const requests = new SqliteEngine(connect(path), { blockingWaitMs: 0, lockWaiters: { counter, role: 'announce' } })
    const writer = new SqliteEngine(connect(path), { lockWaiters: { counter, role: 'defer' } })
    expect(writer.othersWroteSinceAsked()).toBe(false)
    await requests.transaction(async () => void requests.db.query('INSERT INTO t VALUES (1)').run())
    expect(writer.othersWroteSinceAsked()).toBe(true)
    expect(writer.othersWroteSinceAsked()).toBe(false)
    await requests.read(() => requests.db.query('SELECT count(*) FROM t').get())
    await requests.run(() => requests.db.query('SELECT count(*) FROM t').get())
    expect(writer.othersWroteSinceAsked()).toBe(false)
    await requests.run(() => requests.db.query('INSERT INTO t VALUES (2)').run())
    expect(writer.othersWroteSinceAsked()).toBe(true)
  })

  test('a transaction that read, then met a commit of the other connection before its first write, is tried again', async () => {
    // Outside an engine transaction a store's db.transaction is BEGIN DEFERRED: its snapshot is
    // taken by its first read, and a write after the other connection's commit is SQLITE_BUSY_SNAPSHOT.
    const path = file()
    const requests = new SqliteEngine(connect(path), { blockingWaitMs: 0, lockWaiters: { counter: lockWaiterCells(), role: 'announce' } })
    const other = connect(path)
    let attempts = 0
    const seen = await requests.run(() =>
      requests.db.transaction(() => {
        attempts++
        const before = requests.db.query<{ n: number }, []>('SELECT count(*) AS n FROM t').get()!.n
        if (attempts === 1) other.exec('INSERT INTO t VALUES (100)')
        requests.db.query('INSERT INTO t VALUES (?)').run(before)
        return before
      })(),
    )
    expect({ attempts, seen }).toEqual({ attempts: 2, seen: 1 })
    expect(other.query('SELECT x FROM t ORDER BY rowid').all()).toEqual([{ x: 100 }, { x: 1 }])
  })

  test('one that keeps meeting such commits past the deadline is a 503, not a 500', async () => {
    const path = file()
    const requests = new SqliteEngine(connect(path), { blockingWaitMs: 0, busyDeadlineMs: 30, lockWaiters: { counter: lockWaiterCells(), role: 'announce' } })
    const other = connect(path)
    const write = requests.run(() =>
      requests.db.transaction(() => {
        requests.db.query('SELECT count(*) FROM t').get()
        other.exec('INSERT INTO t VALUES (100)')
        requests.db.query('INSERT INTO t VALUES (1)').run()
      })(),
    )
    await expect(write).rejects.toThrow('The database is busy')
    expect(other.query('SELECT count(*) AS n FROM t WHERE x = 1').get()).toEqual({ n: 0 })
  })

  test('a write that gives up (503) is counted out too', async () => {
    const path = file()
    const counter = lockWaiterCells()
    const requests = new SqliteEngine(connect(path), { blockingWaitMs: 0, busyDeadlineMs: 30, lockWaiters: { counter, role: 'announce' } })
    const other = connect(path)
    other.exec('BEGIN IMMEDIATE')
    await expect(requests.run(() => requests.db.query('INSERT INTO t VALUES (1)').run())).rejects.toThrow('The database is busy')
    expect(Atomics.load(counter, 0)).toBe(0)
    other.exec('ROLLBACK')
  })

  test('the writer thread’s engine begins no transaction while one is counted, for at most 50 ms', async () => {
    const path = file()
    const counter = lockWaiterCells()
    const writer = new SqliteEngine(connect(path), { lockWaiters: { counter, role: 'defer' } })
    const insert = () => writer.transaction(() => writer.run(() => writer.db.query('INSERT INTO t VALUES (2)').run()))
    Atomics.store(counter, 0, 1)
    expect(writer.writersWaiting).toBe(true)
    const started = performance.now()
    await insert()
    expect(performance.now() - started).toBeGreaterThanOrEqual(45)
    Atomics.store(counter, 0, 0)
    expect(writer.writersWaiting).toBe(false)
    await insert()
    expect(writer.db.query('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 })
  })
})
