// Opening a SQLite file the way latch uses it: created 0600, WAL, latch's
// pragmas, the numbered migrations applied (refusing a database newer than
// this binary), and closed with a checkpoint. The engine (./engine.ts) shares
// the open connection between requests.
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { driver } from '#sqlite-driver'
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
