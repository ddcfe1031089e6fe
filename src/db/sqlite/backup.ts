// Backups of the one SQLite file, for `latch backup` and `latch restore`.
//
// A backup is `VACUUM INTO` over a connection of its own: SQLite reads the
// whole database inside one read transaction, so under WAL it sees exactly the
// commits made before that transaction began, never blocks the server's
// writers, and writes a compact, self-contained file (rollback-journal mode, no
// -wal). Every file this module writes is created 0600 before any data goes in,
// under a temporary name beside its destination, checked (`integrity_check`,
// a latch schema) and synced, and only then renamed into place: a failure
// leaves the destination as it was and no partial file behind.
//
// A restore replaces the database file itself, so it takes the server lock
// (src/db/server-lock.ts) for its whole duration: while a server runs it is
// refused, and no server can start on the file half-way. Holding that lock is
// also what makes removing the old database's -wal, -shm and -journal safe.
import { driver } from '#sqlite-driver'
import { closeSync, constants, fsyncSync, openSync, readSync, realpathSync, renameSync, rmSync, type Stats, statSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { lockDatabase } from '../server-lock'
import { type Database, DatabaseTooNewError } from './database'
import { migrations } from './migrations'

/** A backup or restore that cannot be carried out; the message says why. */
export class BackupError extends Error {}

export interface BackupResult {
  /** The backup file written. */
  path: string
  bytes: number
  schemaVersion: number
}

export interface RestoreResult {
  /** The database file replaced (or created). */
  path: string
  bytes: number
  schemaVersion: number
  /** False when there was no database at `path` before. */
  replaced: boolean
}

const latestSchemaVersion = (): number => migrations.reduce((max, m) => Math.max(max, m.version), 0)

const statOrNull = (path: string): Stats | undefined => statSync(path, { throwIfNoEntry: false })

const sameFile = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino

/** True when `file` is the database at `dbPath` or one of its -wal, -shm or -journal files. */
function isPartOfDatabase(file: Stats, dbPath: string): boolean {
  const real = realpathSync(dbPath)
  return ['', '-wal', '-shm', '-journal'].some((suffix) => {
    const part = statOrNull(real + suffix)
    return part !== undefined && sameFile(part, file)
  })
}

const sqliteCode = (error: unknown): string => String((error as { code?: unknown }).code ?? (error as Error).message)

/** A fresh, empty file of mode 0600 beside `path` (exclusive create: never an existing file). */
function createTempBeside(path: string): string {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${crypto.randomUUID().slice(0, 8)}`)
  closeSync(openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600))
  return temp
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Copies `from` into the empty file `to` (which keeps its mode) and syncs it. */
function copyInto(from: string, to: string): void {
  const source = openSync(from, 'r')
  try {
    const target = openSync(to, 'w')
    try {
      const buffer = Buffer.allocUnsafe(1 << 20)
      for (let n = readSync(source, buffer); n > 0; n = readSync(source, buffer)) {
        for (let written = 0; written < n; ) written += writeSync(target, buffer, written, n - written)
      }
      fsyncSync(target)
    } finally {
      closeSync(target)
    }
  } finally {
    closeSync(source)
  }
}

/**
 * Checks that `path` is an intact latch database: SQLite's integrity check
 * answers 'ok' and it records its schema version; returns that version.
 * Opened read-write (reads only) so that SQLite removes any -wal/-shm it
 * creates for a WAL-mode file when it closes.
 */
export function checkDatabaseFile(path: string): { schemaVersion: number } {
  let db: Database
  try {
    db = driver.openConnection(path, { create: false })
  } catch (error) {
    throw new BackupError(`${path} cannot be opened by SQLite (${sqliteCode(error)}).`)
  }
  try {
    let results: string[]
    try {
      results = db
        .query<{ integrity_check: string }, []>('PRAGMA integrity_check')
        .all()
        .map((r) => r.integrity_check)
    } catch (error) {
      throw new BackupError(`${path} is not a SQLite database, or is damaged (${sqliteCode(error)}).`)
    }
    if (results.length !== 1 || results[0] !== 'ok') {
      throw new BackupError(`${path} failed SQLite's integrity check: ${results.slice(0, 3).join('; ')}`)
    }
    const hasMigrations = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()
    const version = hasMigrations ? (db.query<{ v: number | null }, []>('SELECT MAX(version) AS v FROM schema_migrations').get()?.v ?? 0) : 0
    if (version < 1) throw new BackupError(`${path} is a SQLite database but not a latch database (it records no latch schema version).`)
    return { schemaVersion: version }
  } finally {
    db.close()
  }
}

/** Removes what a failed attempt left; never fails itself. */
function removeQuietly(...paths: string[]): void {
  for (const path of paths) rmSync(path, { force: true })
}

/**
 * Writes a consistent copy of the database at `dbPath` to `outPath` while
 * servers and commands keep using it. `outPath` must not exist unless `force`.
 */
export function backupDatabase(dbPath: string, outPath: string, options: { force?: boolean } = {}): BackupResult {
  if (dbPath === ':memory:') throw new BackupError('An in-memory database cannot be backed up.')
  const source = statOrNull(dbPath)
  if (!source?.isFile()) throw new BackupError(`There is no database at ${dbPath}.`)
  const existing = statOrNull(outPath)
  if (existing && isPartOfDatabase(existing, dbPath)) throw new BackupError(`${outPath} is the database itself; choose another file for the backup.`)
  if (existing && !options.force) throw new BackupError(`${outPath} already exists; pass --force to replace it.`)
  if (existing && !existing.isFile()) throw new BackupError(`${outPath} exists and is not a regular file.`)
  if (!statOrNull(dirname(outPath))?.isDirectory()) throw new BackupError(`The directory ${dirname(outPath)} does not exist.`)

  const temp = createTempBeside(outPath)
  try {
    const db = driver.openConnection(dbPath, { create: false })
    try {
      // A reader under WAL waits only while a crashed writer's log is recovered.
      db.exec('PRAGMA busy_timeout = 5000')
      db.query('VACUUM INTO ?').run(temp)
    } finally {
      db.close()
    }
    syncPath(temp)
    const { schemaVersion } = checkDatabaseFile(temp)
    // `--force` was checked above; a file that appeared since is replaced only with it.
    if (!options.force && statOrNull(outPath)) throw new BackupError(`${outPath} already exists; pass --force to replace it.`)
    renameSync(temp, outPath)
    syncPath(dirname(outPath))
    return { path: outPath, bytes: statSync(outPath).size, schemaVersion }
  } catch (error) {
    removeQuietly(temp)
    throw error
  }
}

/**
 * Replaces the database at `dbPath` with the backup at `backupPath`, holding
 * the server lock throughout. An existing database is replaced only with
 * `force`; one that a server holds, never.
 */
export function restoreDatabase(backupPath: string, dbPath: string, options: { force?: boolean } = {}): RestoreResult {
  if (dbPath === ':memory:') throw new BackupError('A backup cannot be restored into an in-memory database.')
  const backup = statOrNull(backupPath)
  if (!backup?.isFile()) throw new BackupError(`There is no backup file at ${backupPath}.`)
  const existing = statOrNull(dbPath)
  if (existing && isPartOfDatabase(backup, dbPath)) throw new BackupError(`${backupPath} is the database itself, not a backup of it.`)
  if (existing && !existing.isFile()) throw new BackupError(`${dbPath} exists and is not a regular file.`)
  // Renaming over a symbolic link would replace the link, not the database it points at.
  const target = existing ? realpathSync(dbPath) : dbPath

  let unlock: () => void
  try {
    unlock = lockDatabase(target) // creates an empty file when there was none
  } catch (error) {
    throw new BackupError(`Not restoring: ${(error as Error).message}`)
  }
  let temp: string | undefined
  let installed = false
  try {
    if (existing && !options.force) throw new BackupError(`${dbPath} already exists; pass --force to replace it with the backup.`)
    temp = createTempBeside(target)
    copyInto(backupPath, temp)
    const { schemaVersion } = checkDatabaseFile(temp)
    const latest = latestSchemaVersion()
    if (schemaVersion > latest) {
      throw new DatabaseTooNewError(
        `The backup is at schema version ${schemaVersion}, but this latch only knows versions up to ${latest}. Restore it with a newer latch.`,
      )
    }
    // They belong to the old database (a hot journal would even be rolled back into the new one);
    // nobody has it open, since we hold the lock.
    removeQuietly(`${target}-wal`, `${target}-shm`, `${target}-journal`)
    renameSync(temp, target)
    installed = true
    syncPath(dirname(target))
    return { path: dbPath, bytes: statSync(target).size, schemaVersion, replaced: existing !== undefined }
  } catch (error) {
    if (temp) removeQuietly(temp)
    // The empty file the lock created, never a database that was there before.
    if (!existing && !installed) removeQuietly(target)
    throw error
  } finally {
    unlock()
  }
}
