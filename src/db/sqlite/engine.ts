// The embedded SQLite engine: shares the one connection (opened by
// ./database.ts) between concurrent requests, with asynchronous transactions
// committed in groups, and syncs the log before a write is acknowledged.
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
import { closeSync, fdatasync, openSync, statSync } from 'node:fs'
import { serviceUnavailable } from '../../errors'
import { closeDatabase, type Database } from './database'
import { LockWait, type LockWaiters } from './lock-wait'

export interface EngineOptions {
  /** The database file, watched so that a file removed or replaced while serving fails writes instead of losing them. */
  path?: string
  /** How long a statement may wait for another connection's write lock before the request fails with 503. */
  busyDeadlineMs?: number
  /**
   * How long SQLite itself may wait for the lock inside one statement, blocking
   * the thread (default 20 ms); past it the engine waits between attempts
   * without blocking. The request thread uses 0: the analytics writer holds
   * the lock for milliseconds at a time, and a blocked event loop stalls
   * every request in flight.
   */
  blockingWaitMs?: number
  /** Shared with the other thread of a server, so that the request thread's writes go first (./lock-wait.ts). */
  lockWaiters?: LockWaiters
}

/** The root-key change counter (migration 12), or null on a database without it (then every commit counts). */
function rootKeyCounterOf(db: Database) {
  try {
    return db.query<{ value: number }, []>("SELECT value FROM change_counters WHERE name = 'root_keys'")
  } catch {
    return null
  }
}

/** Transactions sharing one commit at most: reads wait for the group to end, so it must stay short. */
const GROUP_MAX = 32

interface Group {
  members: number
  /** Whether it has already waited a turn for more members. */
  waited: boolean
  /** A failure that dooms the whole group (a savepoint that could not be rolled back). */
  failure: unknown
  /** Settles with the shared COMMIT. */
  committed: Promise<void>
  settle(error: unknown): void
  /** Resolves `ended`. */
  release(): void
}

/** Settles on the next turn of the event loop: what work done in slices waits for between them. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** One SQLite connection shared by every store, with asynchronous transactions (see the header). */
export class SqliteEngine {
  private readonly context = new AsyncLocalStorage<object>()
  /** The token of the running transaction, the group between two of its members, or null. */
  private owner: object | null = null
  /** Settles when the open group of transactions has committed (or rolled back). */
  private ended: Promise<void> = Promise.resolve()
  /** The physical transaction its members share, while open. */
  private group: Group | null = null
  /** Transactions waiting for the connection, in order: `true` when handed the open group. */
  private readonly queued: ((joined: boolean) => void)[] = []
  private readonly dataVersion
  private readonly rootKeyCounter
  private seenDataVersion = -1
  private rootKeyVersion = -1
  private readonly file: { path: string; dev: number; ino: number } | null
  private readonly lock: LockWait
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
    db.exec(`PRAGMA busy_timeout = ${options.blockingWaitMs ?? 20}`)
    this.lock = new LockWait(options.busyDeadlineMs ?? 5_000, options.lockWaiters)
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

  /** Whether the other thread announced writes waiting for the lock (a deferring connection then skips optional work). */
  get writersWaiting(): boolean {
    return this.lock.writersWaiting
  }

  /** Whether the other thread wrote (or began a transaction) since this was last asked (a deferring connection then keeps its transactions short). */
  othersWroteSinceAsked(): boolean {
    return this.lock.othersWroteSinceAsked()
  }

  /**
   * Runs `work` on the connection once no other request's transaction holds
   * it. When `work` wrote (outside a transaction), it resolves only once the
   * write is on stable storage (see `durable`).
   */
  async run<T>(work: () => T): Promise<T> {
    if (!this.free()) await this.untilFree()
    if (this.owner !== null) return work()
    const before = this.changeCount()
    // Before every try, not only the first: a transaction may have begun while this one waited out
    // a busy lock, and a write run then would join it and be reported durable before its commit.
    const result = await this.lock.attempt(work, () => (this.free() ? undefined : this.untilFree()))
    if (this.changeCount() !== before) {
      this.lock.noteWrite()
      this.assertFileIntact()
      await this.durable()
    }
    return result
  }

  /**
   * Runs a read now when no other request's transaction holds the connection
   * (it would see that transaction's rows), else as `run` does: a read needs
   * no durability, so the common case awaits nothing. Any failure (a reader
   * meeting a checkpoint's lock, a storage error) is left to `run`, which
   * tries again and reports it as usual.
   */
  read<T>(work: () => T): T | Promise<T> {
    if (!this.free()) return this.run(work)
    try {
      return work()
    } catch {
      return this.run(work)
    }
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
   * Runs `work` as one transaction: atomic, isolated, rolled back when `work`
   * throws, durable before it resolves. A transaction started inside another
   * joins it.
   *
   * Group commit: transactions that queue for the connection while one runs
   * share its BEGIN IMMEDIATE ... COMMIT, each inside a savepoint of its own
   * (a failure rolls back only its own savepoint), up to GROUP_MAX of them.
   * Writing a commit to the log costs every page it touched, and consecutive
   * key or audit inserts touch mostly the same pages: shared, they cost a
   * fraction. None resolves before the shared COMMIT (and the sync of the log)
   * is done; if that fails, all of them fail, none having been acknowledged.
   * Nothing is committed to a database file that is no longer there.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.owner !== null && this.context.getStore() === this.owner) return work()
    let joined = false
    while (!joined && this.owner !== null) joined = await new Promise<boolean>((resolve) => this.queued.push(resolve))
    const token = {}
    this.owner = token
    if (!joined) await this.begin()
    const group = this.group!
    group.members++
    let result: T
    let failure: { error: unknown } | null = null
    this.db.exec('SAVEPOINT latch_transaction')
    try {
      result = await this.context.run(token, work)
      this.db.exec('RELEASE latch_transaction')
    } catch (error) {
      failure = { error }
      try {
        this.db.exec('ROLLBACK TO latch_transaction')
        this.db.exec('RELEASE latch_transaction')
      } catch (rollbackError) {
        group.failure ??= rollbackError
      }
    }
    // Hand the open transaction to the next one waiting, or commit it. Requests read from their
    // sockets in this same turn of the event loop may still be on their way here: the first time
    // nobody waits, the group waits one turn for them.
    const open = group.members < GROUP_MAX && group.failure === null
    if (open && this.queued.length === 0 && !group.waited) {
      group.waited = true
      this.owner = group
      await nextTurn()
    }
    const next = open ? this.queued.shift() : undefined
    if (next) {
      this.owner = group
      next(true)
    } else {
      await this.commit(group)
    }
    if (failure) throw failure.error
    await group.committed
    // Other requests may use the connection while the log is synced; this one answers after.
    await this.durable()
    return result!
  }

  private async begin(): Promise<void> {
    let release!: () => void
    this.ended = new Promise((resolve) => (release = resolve))
    let settle!: (error: unknown) => void
    const committed = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))))
    // Members that fail on their own never wait for it; a failed commit must not go unhandled.
    committed.catch(() => {})
    this.group = { members: 0, waited: false, failure: null, committed, settle, release }
    try {
      this.assertFileIntact()
      this.lock.defer()
      this.lock.noteWrite()
      await this.lock.attempt(() => this.db.exec('BEGIN IMMEDIATE'))
    } catch (error) {
      this.group = null
      this.owner = null
      release()
      this.queued.shift()?.(false)
      throw error
    }
  }

  private async commit(group: Group): Promise<void> {
    this.owner = group
    try {
      if (group.failure !== null) throw group.failure
      this.assertFileIntact()
      await this.lock.attempt(() => this.db.exec('COMMIT'))
      group.settle(undefined)
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      group.settle(error)
    }
    this.group = null
    this.owner = null
    group.release()
    // The next transaction waiting starts a new group (reads woken by `ended` go first).
    this.queued.shift()?.(false)
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
