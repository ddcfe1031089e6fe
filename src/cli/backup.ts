// `latch backup` and `latch restore`: a consistent copy of the database while
// it is served, and putting such a copy back while it is not. The SQLite work
// (VACUUM INTO, checks, the atomic replacement under the server lock) is in
// src/db/sqlite/backup.ts; this file turns flags into paths and says what
// happened. Neither command copies the master key: a secret is never copied
// implicitly, so both remind the operator to keep it themselves.
import { resolve } from 'node:path'
import type { Config } from '../config'
import { backupDatabase, restoreDatabase } from '../db/sqlite/backup'
import { DB_FLAG, JSON_FLAG, defineCommand, sqliteConfig, writeJson } from './command'

/** Where the master key is: no backup contains it, and recoverable keys cannot be decrypted without it. */
const masterKeyLocation = (config: Config): string => (config.masterKey ? 'the key in LATCH_MASTER_KEY' : (config.masterKeyFile ?? 'the master key'))

export const backupCommand = defineCommand({
  name: 'backup',
  summary: 'Write a consistent copy of the database, even while a server runs',
  usage: 'backup <out> [--force] [--json] [--db <file>]',
  details: `The copy is taken with SQLite's VACUUM INTO on a connection of its own: it
holds every write committed before the backup began and none after, and the
server keeps answering and writing meanwhile. <out> is created with mode 0600
and checked with PRAGMA integrity_check before the command succeeds; on any
failure nothing is left at <out>.

The master key (master.key beside the database, or LATCH_MASTER_KEY) is not
copied: back it up separately, or recoverable keys cannot be recovered from
the copy. With --json the output is {"backup","bytes","schemaVersion"}.`,
  positionals: [{ name: 'out', description: 'The backup file to write (must not exist unless --force)' }],
  flags: {
    force: { type: 'boolean', description: 'Replace <out> if it exists' },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags, positionals }, ctx) {
    const config = sqliteConfig(flags.db, ctx, 'backup', "back PostgreSQL up with pg_dump --format=custom (or your provider's snapshots)")
    const result = backupDatabase(config.dbPath, resolve(ctx.cwd, positionals[0]!), { force: flags.force === true })
    if (flags.json) {
      writeJson(ctx.stdout, { backup: result.path, bytes: result.bytes, schemaVersion: result.schemaVersion })
      return 0
    }
    ctx.stdout.write(`Backed up ${config.dbPath} to ${result.path} (${result.bytes} bytes, schema version ${result.schemaVersion}, integrity check ok).\n`)
    ctx.stdout.write(`The master key is not in the backup: back up ${masterKeyLocation(config)} separately, or recoverable keys cannot be recovered from it.\n`)
    return 0
  },
})

export const restoreCommand = defineCommand({
  name: 'restore',
  summary: 'Replace the database with a backup (the server must be stopped)',
  usage: 'restore <backup> [--force] [--json] [--db <file>]',
  details: `The backup must pass PRAGMA integrity_check and be a latch database no newer
than this latch (an older one is migrated when a server next opens it). A
database that a server holds is never replaced: stop the server first. An
existing database is replaced only with --force. The replacement is atomic: the
backup is copied beside the database (mode 0600), synced, and renamed over it;
the old database's -wal, -shm and -journal files are removed. Run no other
latch command on the database while restoring.

Recoverable keys need the master key that encrypted them (master.key beside
the database, or LATCH_MASTER_KEY); restore does not touch it. With --json the
output is {"restored","from","bytes","schemaVersion","replaced"}.`,
  positionals: [{ name: 'backup', description: 'A file written by latch backup' }],
  flags: {
    force: { type: 'boolean', description: 'Replace an existing database' },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags, positionals }, ctx) {
    const config = sqliteConfig(flags.db, ctx, 'restore', 'restore PostgreSQL with pg_restore into an empty database')
    const from = resolve(ctx.cwd, positionals[0]!)
    const result = restoreDatabase(from, config.dbPath, { force: flags.force === true })
    if (flags.json) {
      writeJson(ctx.stdout, { restored: result.path, from, bytes: result.bytes, schemaVersion: result.schemaVersion, replaced: result.replaced })
      return 0
    }
    const what = result.replaced ? 'replacing the previous database' : 'a new database file'
    ctx.stdout.write(`Restored ${from} to ${result.path} (${what}; ${result.bytes} bytes, schema version ${result.schemaVersion}).\n`)
    ctx.stdout.write(`Recoverable keys need the master key that encrypted them: put it in place (${masterKeyLocation(config)}) before serving.\n`)
    return 0
  },
})
