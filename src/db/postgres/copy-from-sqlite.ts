// Moving a single-node deployment into PostgreSQL (`latch migrate-store`):
// every table of a latch SQLite database is copied, in one PostgreSQL
// transaction, into a migrated and empty PostgreSQL database. Rows keep their
// ids (hashes, so keys verify with the same plaintexts; sealed recoverable
// keys; the master key's fingerprint; the row ids of events and audit logs,
// whose sequences then continue after them). SQLite's 0/1 flags become
// booleans; a NUL character (U+0000), which PostgreSQL cannot store in text
// and which a latch before the NUL rule (src/http/body.ts) let SQLite keep,
// becomes U+FFFD and is counted in the report; everything else keeps its
// value. Each table's row count is checked before the commit; any failure
// leaves the target as it was.
import type { Database } from '../sqlite/database'
import type { PostgresEngine } from './engine'

/** Every table, parents before children; a table latch does not know is refused rather than left behind. */
const TABLES = [
  'workspaces',
  'root_keys',
  'apis',
  'identities',
  'key_migrations',
  'keys',
  'key_last_used',
  'ratelimits',
  'scheduler_state',
  'permissions',
  'roles',
  'roles_permissions',
  'keys_permissions',
  'keys_roles',
  'ratelimit_namespaces',
  'ratelimit_overrides',
  'settings',
  'audit_logs',
  'audit_log_resources',
  'verification_events',
  'ratelimit_events',
  ...['minute', 'hour', 'day', 'month'].flatMap((grain) => [`verification_rollups_per_${grain}`, `ratelimit_rollups_per_${grain}`]),
]

/** Identity columns whose sequences must continue after the copied ids. */
const IDENTITIES: Record<string, string> = { audit_logs: 'seq', verification_events: 'id', ratelimit_events: 'id' }

/** Rows sent per statement. */
const BATCH = 2_000

export class TargetNotEmptyError extends Error {}

export interface CopyReport {
  /** Rows copied per table, in copy order, and how many of their values held a NUL character (copied as U+FFFD). */
  tables: { table: string; rows: number; nulReplaced: number }[]
}

interface Column {
  name: string
  type: string
}

/**
 * The SQLite engine's own tables, not data: its migration record, the root-key change counter
 * that its triggers keep (PostgreSQL tells other nodes of root-key changes with LISTEN instead),
 * and the rollups its writer thread owes (paid before the copy: PostgreSQL holds none back).
 */
const SQLITE_BOOKKEEPING = new Set(['schema_migrations', 'change_counters', 'rollups_owed'])

/** Refuses a source with tables this latch cannot place, or a target whose schema lacks one. */
function checkTables(source: Database, target: Map<string, Column[]>): void {
  const sourceTables = source
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all()
    .map((t) => t.name)
    .filter((t) => !SQLITE_BOOKKEEPING.has(t))
  const unknown = sourceTables.filter((t) => !TABLES.includes(t))
  if (unknown.length) throw new Error(`The SQLite database has tables this latch cannot copy (${unknown.join(', ')}); use the latch that wrote it.`)
  const missing = TABLES.filter((t) => !target.has(t))
  if (missing.length) throw new Error(`The PostgreSQL schema lacks tables ${missing.join(', ')}; is it a latch database of this version?`)
  const uncovered = [...target.keys()].filter((t) => !TABLES.includes(t) && t !== 'schema_migrations')
  if (uncovered.length) throw new Error(`The PostgreSQL schema has tables this latch does not know (${uncovered.join(', ')}); use a matching latch.`)
}

/** A SQLite value as the PostgreSQL column takes it through JSON (`nul` counts the values whose NULs became U+FFFD). */
function convert(value: unknown, type: string, nul: { replaced: number }): unknown {
  if (value === null || value === undefined) return null
  if (type === 'boolean') return value === 1 || value === true
  if (typeof value === 'bigint') return Number(value)
  const text = value instanceof Uint8Array ? new TextDecoder().decode(value) : value
  if (typeof text === 'string' && text.includes('\u0000')) {
    nul.replaced++
    return text.replaceAll('\u0000', '\ufffd')
  }
  return text
}

/**
 * Copies every table of `source` (a migrated latch SQLite database, read in
 * one snapshot) into `target` (migrated) in one transaction. Throws
 * TargetNotEmptyError, before writing anything, when any table of the
 * target holds a row.
 */
export async function copyFromSqlite(source: Database, target: PostgresEngine): Promise<CopyReport> {
  const columnRows = await target.all<{ table_name: string; column_name: string; data_type: string }>(
    // Generated columns (the rollups' tags_key) are PostgreSQL's to fill.
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = current_schema() AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position`,
  )
  const columns = new Map<string, Column[]>()
  for (const c of columnRows) columns.set(c.table_name, [...(columns.get(c.table_name) ?? []), { name: c.column_name, type: c.data_type }])
  checkTables(source, columns)
  const report: CopyReport = { tables: [] }
  await target.transaction(async () => {
    // No node may write while the copy runs, and the target must be empty.
    await target.run(`LOCK TABLE ${TABLES.join(', ')} IN EXCLUSIVE MODE`)
    for (const table of TABLES) {
      if (await target.get(`SELECT 1 FROM ${table} LIMIT 1`)) {
        throw new TargetNotEmptyError(`The PostgreSQL database is not empty (${table} has rows); migrate-store only copies into an empty latch database.`)
      }
    }
    source.exec('BEGIN')
    try {
      for (const table of TABLES) report.tables.push({ table, ...(await copyTable(source, target, table, columns.get(table)!)) })
    } finally {
      source.exec('COMMIT')
    }
    for (const [table, column] of Object.entries(IDENTITIES)) {
      await target.run(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), coalesce((SELECT max(${column}) FROM ${table}), 0) + 1, false)`)
    }
    for (const { table, rows } of report.tables) {
      const counted = Number((await target.get<{ n: bigint }>(`SELECT count(*) AS n FROM ${table}`))!.n)
      if (counted !== rows) throw new Error(`Copying ${table} went wrong: ${rows} rows read, ${counted} in PostgreSQL. Nothing was written.`)
    }
  })
  return report
}

/** The columns that order a table's rows for reading it in slices: its rowid, or a WITHOUT ROWID table's primary key. */
function sliceKey(source: Database, table: string): string[] {
  try {
    source.query(`SELECT rowid FROM ${table} LIMIT 0`).all()
    return ['rowid']
  } catch {
    return source
      .query<{ name: string; pk: number }, []>(`SELECT name, pk FROM pragma_table_info('${table}') WHERE pk > 0 ORDER BY pk`)
      .all()
      .map((c) => `"${c.name}"`)
  }
}

/** Copies one table, BATCH rows at a time read in key order (the caller holds one read transaction on the source). */
async function copyTable(source: Database, target: PostgresEngine, table: string, targetColumns: Column[]): Promise<{ rows: number; nulReplaced: number }> {
  const present = new Set(
    source
      .query<{ name: string }, []>(`SELECT name FROM pragma_table_info('${table}')`)
      .all()
      .map((c) => c.name),
  )
  if (present.size === 0) return { rows: 0, nulReplaced: 0 }
  const shared = targetColumns.filter((c) => present.has(c.name))
  const quoted = shared.map((c) => `"${c.name}"`)
  const record = shared.map((c) => `"${c.name}" ${c.type === 'USER-DEFINED' ? 'text' : c.type}`).join(', ')
  const insert = `INSERT INTO ${table} (${quoted.join(', ')}) SELECT ${quoted.join(', ')} FROM json_to_recordset($1::text::json) AS r(${record})`
  const key = sliceKey(source, table)
  const keys = key.map((k, i) => `${k} AS __k${i}`).join(', ')
  const order = key.join(', ')
  const first = source.query<Record<string, unknown>, unknown[]>(`SELECT ${keys}, ${quoted.join(', ')} FROM ${table} ORDER BY ${order} LIMIT ${BATCH}`)
  const next = source.query<Record<string, unknown>, unknown[]>(
    `SELECT ${keys}, ${quoted.join(', ')} FROM ${table} WHERE (${order}) > (${key.map(() => '?').join(', ')}) ORDER BY ${order} LIMIT ${BATCH}`,
  )
  let copied = 0
  const nul = { replaced: 0 }
  for (let rows = first.all(); rows.length > 0; ) {
    const batch = rows.map((row) => Object.fromEntries(shared.map((c) => [c.name, convert(row[c.name], c.type, nul)])))
    await target.run(insert, [JSON.stringify(batch)])
    copied += rows.length
    if (rows.length < BATCH) break
    const last = rows[rows.length - 1]!
    rows = next.all(...key.map((_, i) => last[`__k${i}`]))
  }
  return { rows: copied, nulReplaced: nul.replaced }
}
