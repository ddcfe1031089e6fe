// The embedded SQLite engine: opens the file with latch's pragmas, applies the
// numbered migrations, closes cleanly (WAL checkpoint), and shares the one
// connection between concurrent requests.
//
// Stores are asynchronous at their boundary (a second engine such as
// PostgreSQL answers over the network), while bun:sqlite is synchronous. An
// asynchronous transaction therefore holds the connection across awaits: while
// it is open, statements from other requests wait for it to end (`run`), and
// statements of the transaction itself (recognised through AsyncLocalStorage,
// whichever service issues them) go straight through. So a transaction that
// spans several stores stays atomic and isolated under concurrent requests.
import { AsyncLocalStorage } from 'node:async_hooks'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Database } from 'bun:sqlite'
import { migrations as allMigrations, type Migration } from './migrations'

export type { Database }

export class DatabaseTooNewError extends Error {}

export function openDatabase(path: string, migrations: Migration[] = allMigrations): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA busy_timeout = 5000')
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
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.version, m.name, Date.now())
    })()
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

/** One SQLite connection shared by every store, with asynchronous transactions (see the header). */
export class SqliteEngine {
  private readonly context = new AsyncLocalStorage<object>()
  /** The token of the open transaction, or null. */
  private owner: object | null = null
  /** Settles when the open transaction ends. */
  private ended: Promise<void> = Promise.resolve()

  private readonly dataVersion

  constructor(readonly db: Database) {
    this.dataVersion = db.query<{ data_version: number }, []>('PRAGMA data_version')
  }

  /** A prepared statement, cached by SQLite text. */
  prepare<R = unknown, P extends unknown[] = any[]>(sql: string) {
    return this.db.query<R, P extends [] ? [] : any>(sql)
  }

  /** True when no other request's transaction holds the connection. */
  private free(): boolean {
    return this.owner === null || this.context.getStore() === this.owner
  }

  /** Runs `work` on the connection once no other request's transaction holds it. */
  async run<T>(work: () => T): Promise<T> {
    while (!this.free()) await this.ended
    return work()
  }

  /**
   * Runs `work` as one transaction (BEGIN IMMEDIATE: the write lock is taken
   * up front, so two writers never deadlock on an upgrade). A transaction
   * started inside another joins it. Rolled back when `work` throws.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.owner !== null && this.context.getStore() === this.owner) return work()
    while (this.owner !== null) await this.ended
    const token = {}
    let release!: () => void
    this.owner = token
    this.ended = new Promise((resolve) => (release = resolve))
    try {
      this.db.exec('BEGIN IMMEDIATE')
      const result = await this.context.run(token, work)
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      throw error
    } finally {
      this.owner = null
      release()
    }
  }

  /** A counter that changes whenever another connection (e.g. the CLI) commits. Cheap and synchronous. */
  externalVersion(): number {
    return this.dataVersion.get()!.data_version
  }

  close(): void {
    closeDatabase(this.db)
  }
}
