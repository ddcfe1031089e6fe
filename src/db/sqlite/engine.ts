// The embedded SQLite engine: opens the file with latch's pragmas, applies the
// numbered migrations, closes cleanly (WAL checkpoint), and shares the one
// connection between concurrent requests.
//
// Stores are asynchronous at their boundary (a second engine such as
// PostgreSQL answers over the network), while the SQLite driver (bun:sqlite or
// node:sqlite, ./driver/driver.ts) is synchronous. An
// asynchronous transaction therefore holds the connection across awaits: while
// it is open, statements from other requests wait for it to end (`run`), and
// statements of the transaction itself (recognised through AsyncLocalStorage,
// whichever service issues them) go straight through. So a transaction that
// spans several stores stays atomic and isolated under concurrent requests.
import { AsyncLocalStorage } from 'node:async_hooks'
import { closeSync, fdatasync, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { driver } from '#sqlite-driver'
import { serviceUnavailable } from '../../errors'
import type { Connection } from './driver/driver'
import { migrations as allMigrations, type Migration } from './migrations'

/** An open SQLite connection (the driver of the runtime latch runs on). */
export type Database = Connection

export class DatabaseTooNewError extends Error {}

export function openDatabase(path: string, migrations: Migration[] = allMigrations): Database {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true })
    // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the
    // database file's mode. Exclusive create ('wx') never opens, and so never closes,
    // an existing file, which would drop the fcntl locks SQLite holds on it in this process.
    try {
      closeSync(openSync(path, 'wx', 0o600))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  const db = driver.openConnection(path)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA busy_timeout = 5000')
  // SQLite's default page cache is 2 MB; the event tables and the keys' indexes grow far past
  // that, and every insert at a random point of an index (a key id, a hash) then read its pages
  // back from the operating system. 64 MB (allocated only as pages are used) keeps them here.
  db.exec('PRAGMA cache_size = -65536')
  try {
    migrate(db, migrations)
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

export function migrate(db: Database, migrations: Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  const row = db.query<{ v: number | null }, []>('SELECT MAX(version) AS v FROM schema_migrations').get()
  const current = row?.v ?? 0
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0)
  if (current > latest) {
    throw new DatabaseTooNewError(
      `The database is at schema version ${current}, but this latch only knows versions up to ${latest}. Upgrade latch before opening this database.`,
    )
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue
    // PRAGMA foreign_keys is a no-op inside a transaction: switch it around BEGIN/COMMIT.
    const foreignKeys = m.foreignKeysOff ? db.query<{ foreign_keys: number }, []>('PRAGMA foreign_keys').get()!.foreign_keys : 0
    if (foreignKeys) db.exec('PRAGMA foreign_keys = OFF')
    try {
      db.transaction(() => {
        db.exec(m.sql)
        if (m.foreignKeysOff) {
          const broken = db.query('PRAGMA foreign_key_check').all()
          if (broken.length) throw new Error(`Migration ${m.version} (${m.name}) would leave ${broken.length} broken foreign key reference(s).`)
        }
        record.run(m.version, m.name, Date.now())
      })()
    } finally {
      if (foreignKeys) db.exec('PRAGMA foreign_keys = ON')
    }
  }
}

/** Flushes the WAL into the main file and closes the handle. */
export function closeDatabase(db: Database): void {
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}

export interface EngineOptions {
  /** The database file, watched so that a file removed or replaced while serving fails writes instead of losing them. */
  path?: string
  /** How long a statement may wait for another connection's write lock before the request fails with 503. */
  busyDeadlineMs?: number
}

/** SQLite error codes that mean "this write cannot happen now", reported as 503 rather than 500. */
const UNAVAILABLE = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/

/** The root-key change counter (migration 12), or null on a database without it (then every commit counts). */
function rootKeyCounterOf(db: Database) {
  try {
    return db.query<{ value: number }, []>("SELECT value FROM change_counters WHERE name = 'root_keys'")
  } catch {
    return null
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One SQLite connection shared by every store, with asynchronous transactions (see the header). */
export class SqliteEngine {
  private readonly context = new AsyncLocalStorage<object>()
  /** The token of the open transaction, or null. */
  private owner: object | null = null
  /** Settles when the open transaction ends. */
  private ended: Promise<void> = Promise.resolve()
  private readonly dataVersion
  private readonly rootKeyCounter
  private seenDataVersion = -1
  private rootKeyVersion = -1
  private readonly file: { path: string; dev: number; ino: number } | null
  private readonly busyDeadlineMs: number
  private readonly totalChanges
  private walFd: number | null = null
  private syncRequested = 0
  private syncCompleted = 0
  private syncing: Promise<void> | null = null

  constructor(
    readonly db: Database,
    options: EngineOptions = {},
  ) {
    this.dataVersion = db.query<{ data_version: number }, []>('PRAGMA data_version')
    this.totalChanges = db.query<{ n: number }, []>('SELECT total_changes() AS n')
    this.rootKeyCounter = rootKeyCounterOf(db)
    // SQLite's own busy wait blocks the event loop; keep it short and wait between attempts instead.
    db.exec('PRAGMA busy_timeout = 20')
    this.busyDeadlineMs = options.busyDeadlineMs ?? 5_000
    const stat = options.path && options.path !== ':memory:' ? statSync(options.path) : null
    this.file = stat ? { path: options.path!, dev: stat.dev, ino: stat.ino } : null
  }

  /** A prepared statement, cached by SQLite text. */
  prepare<R = unknown, P extends unknown[] = any[]>(sql: string) {
    return this.db.query<R, P extends [] ? [] : any[]>(sql)
  }

  /** True when no other request's transaction holds the connection. */
  private free(): boolean {
    return this.owner === null || this.context.getStore() === this.owner
  }

  /** Throws 503 when the database file is no longer the one that was opened (deleted or replaced). */
  private assertFileIntact(): void {
    if (!this.file) return
    const now = statSync(this.file.path, { throwIfNoEntry: false })
    if (!now || now.ino !== this.file.ino || now.dev !== this.file.dev) {
      throw serviceUnavailable(`The database file ${this.file.path} was removed or replaced while latch was running; nothing can be written. Restart latch.`)
    }
  }

  /**
   * Runs `work` now, and again after a pause while another connection holds
   * the write lock, until `busyDeadlineMs` has passed (then 503). Storage
   * failures (disk full, read-only, I/O) are 503 too: nothing was written.
   */
  private async attempt<T>(work: () => T, beforeEach?: () => Promise<void> | undefined): Promise<T> {
    const deadline = performance.now() + this.busyDeadlineMs
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      const ready = beforeEach?.()
      if (ready) await ready
      try {
        return work()
      } catch (error) {
        const code = (error as { code?: unknown }).code
        if (code === 'SQLITE_BUSY' && performance.now() + pause < deadline) {
          await sleep(pause)
          continue
        }
        if (code === 'SQLITE_BUSY') throw serviceUnavailable('The database is busy (another process holds its write lock); try again shortly.')
        if (typeof code === 'string' && UNAVAILABLE.test(code)) throw serviceUnavailable(`The database cannot be written (${code}); try again shortly.`)
        throw error
      }
    }
  }

  /**
   * Runs `work` on the connection once no other request's transaction holds
   * it. When `work` wrote (outside a transaction), it resolves only once the
   * write is on stable storage (see `durable`).
   */
  async run<T>(work: () => T): Promise<T> {
    while (!this.free()) await this.ended
    if (this.owner !== null) return work()
    const before = this.changeCount()
    // Before every try, not only the first: a transaction may have begun while this one waited out
    // a busy lock, and a write run then would join it and be reported durable before its commit.
    const result = await this.attempt(work, () => (this.free() ? undefined : this.untilFree()))
    if (this.changeCount() !== before) {
      this.assertFileIntact()
      await this.durable()
    }
    return result
  }

  private async untilFree(): Promise<void> {
    while (!this.free()) await this.ended
  }

  /** Rows changed through this connection so far (SQLite's total_changes()). */
  private changeCount(): number {
    return this.totalChanges.get()!.n
  }

  /**
   * Resolves once everything committed so far is on stable storage: one
   * fdatasync of the write-ahead log, run off the event loop and shared by
   * every commit that arrives while it runs (a group commit). SQLite itself
   * runs with synchronous=NORMAL, which already survives a crash of the
   * process; this makes an acknowledged write survive the machine's too.
   */
  durable(): Promise<void> {
    if (!this.file) return Promise.resolve()
    const target = ++this.syncRequested
    const step = async (): Promise<void> => {
      while (this.syncCompleted < target) {
        if (this.syncing) {
          await this.syncing
          continue
        }
        const covers = this.syncRequested
        this.syncing = this.syncWal().finally(() => (this.syncing = null))
        await this.syncing
        this.syncCompleted = covers
      }
    }
    return step()
  }

  private async syncWal(): Promise<void> {
    this.walFd ??= openSync(`${this.file!.path}-wal`, 'r')
    await new Promise<void>((resolve, reject) =>
      fdatasync(this.walFd!, (error) => (error ? reject(serviceUnavailable(`The write-ahead log could not be synced (${error.code}).`)) : resolve())),
    )
  }

  /**
   * Runs `work` as one transaction (BEGIN IMMEDIATE: the write lock is taken
   * up front, so two writers never deadlock on an upgrade). A transaction
   * started inside another joins it. Rolled back when `work` throws; nothing
   * is committed to a database file that is no longer there.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.owner !== null && this.context.getStore() === this.owner) return work()
    while (this.owner !== null) await this.ended
    const token = {}
    let release!: () => void
    this.owner = token
    this.ended = new Promise((resolve) => (release = resolve))
    const end = () => {
      this.owner = null
      release()
    }
    let result: T
    try {
      this.assertFileIntact()
      await this.attempt(() => this.db.exec('BEGIN IMMEDIATE'))
      result = await this.context.run(token, work)
      this.assertFileIntact()
      await this.attempt(() => this.db.exec('COMMIT'))
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      end()
      throw error
    }
    // Other requests may use the connection while the log is synced; this one answers after.
    end()
    await this.durable()
    return result
  }

  /**
   * A counter that changes whenever another connection (e.g. the CLI) changes
   * root keys. Cheap and synchronous: the root-key counter (kept by triggers)
   * is read only after some other connection committed anything at all.
   */
  externalVersion(): number {
    const version = this.dataVersion.get()!.data_version
    if (version !== this.seenDataVersion) {
      this.seenDataVersion = version
      this.rootKeyVersion = this.rootKeyCounter?.get()?.value ?? version
    }
    return this.rootKeyVersion
  }

  close(): void {
    if (this.walFd !== null) closeSync(this.walFd)
    closeDatabase(this.db)
  }
}
