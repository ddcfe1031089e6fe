// `latch migrate-store --from <sqlite file> --to <postgres url>`: moves a
// single-node deployment into PostgreSQL (the copying, in one transaction, is
// src/db/postgres/copy-from-sqlite.ts). The SQLite file is locked as a
// server locks it, so no server writes to it meanwhile, and migrated to this
// latch's schema first; the PostgreSQL database is migrated and must be empty.
// The master key is not a row: recoverable keys stay sealed with the key that
// sealed them, which every node must then be given (LATCH_MASTER_KEY or
// LATCH_MASTER_KEY_FILE); the command says which file that is.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ConfigError } from '../config'
import { redactUrl } from '../db/open'
import type { copyFromSqlite } from '../db/postgres/copy-from-sqlite'
import { lockDatabase } from '../db/server-lock'
import { rebuildOwedRollups } from '../db/sqlite'
import { openDatabase } from '../db/sqlite/database'
import { FINGERPRINT_SETTING, masterKeyFingerprint, parseMasterKey } from '../modules/keys/vault'
import { JSON_FLAG, defineCommand, writeJson } from './command'

/** What to tell the operator about the master key the copied recoverable keys need. */
function masterKeyAdvice(fingerprint: string | null, keyFile: string, envKey: string | undefined): string {
  if (fingerprint === null)
    return 'No recoverable keys were encrypted in this database: no master key is needed yet (set LATCH_MASTER_KEY on every node to enable them).'
  const candidate = envKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8') : null)
  const where = envKey ? 'LATCH_MASTER_KEY' : keyFile
  if (candidate === null) {
    return `Recoverable keys are encrypted with a master key, but ${keyFile} does not exist: find that key and give it to every node (LATCH_MASTER_KEY or LATCH_MASTER_KEY_FILE), or they cannot be recovered.`
  }
  let matches: boolean
  try {
    matches = fingerprint === 'unknown' || masterKeyFingerprint(parseMasterKey(candidate)) === fingerprint
  } catch {
    matches = false
  }
  if (!matches) return `Recoverable keys are encrypted with a master key that is not ${where}: find the original and give it to every node.`
  return `Recoverable keys are encrypted with the master key in ${where}: give every node that same key (LATCH_MASTER_KEY, or LATCH_MASTER_KEY_FILE pointing to a copy of the file).`
}

export const migrateStoreCommand = defineCommand({
  name: 'migrate-store',
  summary: 'Copy a SQLite database into an empty PostgreSQL database (to run several nodes)',
  usage: 'migrate-store --from <sqlite file> --to <postgres url> [--json]',
  details: `Stop the server first: the SQLite file is locked as a serving latch locks it.
The SQLite database is brought to this latch's schema, the PostgreSQL database
is migrated, and every table is copied in one PostgreSQL transaction: keys keep
verifying with the same plaintexts, root keys keep working, and events, audit
logs and analytics come along. A PostgreSQL database that already holds rows is
refused, and on any failure nothing is written to it. PostgreSQL cannot store a
NUL character (U+0000) in text, which latch now refuses in every request but
once let SQLite keep: such values are copied with U+FFFD in its place, and
counted.

The master key is not copied (it is not in the database): recoverable keys need
the key that encrypted them (master.key beside the SQLite file, or
LATCH_MASTER_KEY) on every node, given as LATCH_MASTER_KEY or
LATCH_MASTER_KEY_FILE. With --json the output is
{"from","to","tables":{"<table>":<rows>,...},"nulReplaced":{"<table>":<values>,...},"masterKey"}.`,
  flags: {
    from: { type: 'string', value: '<sqlite file>', description: 'The SQLite database to copy', required: true },
    to: { type: 'string', value: '<postgres url>', description: 'An empty PostgreSQL database, postgres://user:password@host:port/name', required: true },
    json: JSON_FLAG,
  },
  async run({ flags }, ctx) {
    const from = resolve(ctx.cwd, flags.from!)
    if (!existsSync(from)) throw new ConfigError(`--from: ${from} does not exist`)
    let to: URL
    try {
      to = new URL(flags.to!)
    } catch {
      throw new ConfigError('--to must be a PostgreSQL URL such as postgres://user:password@host:5432/latch')
    }
    if (to.protocol !== 'postgres:' && to.protocol !== 'postgresql:') throw new ConfigError(`--to must be a postgres:// URL, got ${to.protocol}//...`)
    const unlock = lockDatabase(from)
    try {
      const source = openDatabase(from)
      try {
        // PostgreSQL writes rollups with their events: nothing may be owed when the rows move.
        await rebuildOwedRollups(source)
        // Loaded only when used: the PostgreSQL engine uses Bun's SQL client, which Deno lacks.
        const [{ openPostgresStores }, { copyFromSqlite }] = await Promise.all([import('../db/postgres'), import('../db/postgres/copy-from-sqlite')])
        const target = await openPostgresStores(flags.to!)
        let report: Awaited<ReturnType<typeof copyFromSqlite>>
        try {
          report = await copyFromSqlite(source, target.engine)
        } finally {
          await target.close()
        }
        const fingerprint = source.query<{ value: string }, [string]>('SELECT value FROM settings WHERE name = ?').get(FINGERPRINT_SETTING)?.value ?? null
        const advice = masterKeyAdvice(fingerprint, resolve(dirname(from), 'master.key'), ctx.env.LATCH_MASTER_KEY || undefined)
        if (flags.json) {
          writeJson(ctx.stdout, {
            from,
            to: redactUrl(flags.to!),
            tables: Object.fromEntries(report.tables.map((t) => [t.table, t.rows])),
            nulReplaced: Object.fromEntries(report.tables.filter((t) => t.nulReplaced > 0).map((t) => [t.table, t.nulReplaced])),
            masterKey: advice,
          })
          return 0
        }
        const total = report.tables.reduce((sum, t) => sum + t.rows, 0)
        ctx.stdout.write(`Copied ${from} to ${redactUrl(flags.to!)}: ${total} rows in ${report.tables.length} tables (counts checked).\n`)
        for (const t of report.tables.filter((t) => t.rows > 0)) ctx.stdout.write(`  ${t.table.padEnd(34)} ${t.rows}\n`)
        const nul = report.tables.filter((t) => t.nulReplaced > 0)
        if (nul.length) {
          const where = nul.map((t) => `${t.table} ${t.nulReplaced}`).join(', ')
          ctx.stdout.write(`Values holding a NUL character, which PostgreSQL cannot store, were copied with U+FFFD in its place: ${where}.\n`)
        }
        ctx.stdout.write(`${advice}\nStart the nodes with --database-url (and --redis-url); keep the SQLite file until they serve.\n`)
        return 0
      } finally {
        source.close()
      }
    } finally {
      unlock()
    }
  },
})
