// Applies the numbered PostgreSQL migrations at start. Several nodes may start
// together against one database: each takes a session advisory lock on one
// connection first, so exactly one applies what is missing while the others
// wait and then find nothing left to do. Each migration runs in a transaction
// of its own with its row in schema_migrations, so a failed one leaves the
// schema as it was, and running again is harmless.
import type { SQL } from 'bun'
import { DatabaseTooNewError } from '../sqlite/database'
import { type Migration, migrations as allMigrations } from './migrations'

/** The advisory lock key of latch's migrations (any constant; named for whoever reads pg_locks). */
const LOCK = "hashtext('latch schema migrations')"

export async function migrate(pool: SQL, migrations: Migration[] = allMigrations): Promise<void> {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0)
  // Usually there is nothing to do: one read, no lock.
  if ((await schemaVersion(pool)) === latest) return
  const connection = await pool.reserve()
  try {
    await connection.unsafe(`SELECT pg_advisory_lock(${LOCK})`)
    try {
      await connection.unsafe(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
      const [row] = await connection.unsafe<{ v: number }[]>('SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations')
      const current = row!.v
      if (current > latest) {
        throw new DatabaseTooNewError(
          `The database is at schema version ${current}, but this latch only knows versions up to ${latest}. Upgrade latch before opening this database.`,
        )
      }
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (m.version <= current) continue
        await connection.begin(async (tx) => {
          await tx.unsafe(m.sql)
          await tx.unsafe('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()])
        })
      }
    } finally {
      await connection.unsafe(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => {})
    }
  } finally {
    await connection.release()
  }
}

/** The schema version of a migrated database (0 for an empty one). */
export async function schemaVersion(pool: SQL): Promise<number> {
  const [table] = await pool.unsafe<{ exists: boolean }[]>("SELECT to_regclass('schema_migrations') IS NOT NULL AS exists")
  if (!table!.exists) return 0
  const [row] = await pool.unsafe<{ v: number }[]>('SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations')
  return row!.v
}
