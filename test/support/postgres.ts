// PostgreSQL for tests: the engine a run uses (LATCH_TEST_ENGINE=postgres, with
// the server of LATCH_TEST_DATABASE_URL that .ci/services starts), and a fresh
// database per harness. The first database of a process is migrated and kept
// as a template; others are copies of it (CREATE DATABASE ... TEMPLATE). A
// copy takes most of a second, so a harness that closes empties its database
// (EMPTY_DATABASE) and leaves it to the next harness of the process: each harness alive has a database of its own,
// empty and migrated when it starts. All are dropped when the process ends.
import { SQL } from 'bun'
import { postgresStores } from '../../src/db/postgres'

export const TEST_ENGINE: 'sqlite' | 'postgres' = process.env.LATCH_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite'

/** The superuser URL of the test server; tests that need PostgreSQL fail clearly without it. */
export function adminUrl(): string {
  const url = process.env.LATCH_TEST_DATABASE_URL
  if (!url) throw new Error('LATCH_TEST_DATABASE_URL is not set: run the tests through .ci/services (npm run test:postgres does)')
  return url
}

/** The URL of `database` on the test server. */
export function databaseUrl(database: string): string {
  const url = new URL(adminUrl())
  url.pathname = `/${database}`
  return url.toString()
}

let admin: SQL | null = null
let template: Promise<string> | null = null

const adminClient = () => (admin ??= new SQL(adminUrl(), { max: 2 }))

const randomName = (prefix: string) => `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`

/** A migrated, empty database to copy (made once per process). */
function templateDatabase(): Promise<string> {
  template ??= (async () => {
    const name = randomName('latch_template')
    await adminClient().unsafe(`CREATE DATABASE ${name}`)
    const stores = postgresStores(databaseUrl(name))
    await stores.ready
    await stores.close()
    // Removed when the test process ends; a crash leaves it for the server's own cleanup (a temporary cluster in CI).
    process.once(
      'beforeExit',
      () =>
        void adminClient()
          .unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
          .catch(() => {}),
    )
    return name
  })()
  return template
}

/** Emptied databases of closed harnesses, ready for the next. */
const spare: string[] = []
const made: string[] = []

/**
 * A fresh, migrated database for a harness: a spare one at once, or a name
 * whose database `prepare` makes (the pool opens its first connection after).
 */
export function reserveTestDatabase(): { name: string; prepare: () => Promise<void> } {
  const reused = spare.pop()
  if (reused) return { name: reused, prepare: async () => {} }
  const name = randomName('latch_test')
  return {
    name,
    prepare: async () => {
      const from = await templateDatabase()
      await adminClient().unsafe(`CREATE DATABASE ${name} TEMPLATE ${from}`)
      made.push(name)
    },
  }
}

/**
 * Empties every table of latch's schema (schema_migrations stays) in one
 * statement. DELETE, not TRUNCATE: a few rows are gone in ~10 ms, where
 * TRUNCATE makes new files for ~40 tables (~70 ms); foreign keys are not
 * checked meanwhile (replica role), since every table empties.
 */
export const EMPTY_DATABASE = `DO $$ DECLARE t text; BEGIN
  SET LOCAL session_replication_role = replica;
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' LOOP
    EXECUTE format('DELETE FROM %I', t);
  END LOOP;
END $$`

/** Hands an emptied database back for the next harness. */
export function returnTestDatabase(name: string): void {
  spare.push(name)
}

/** An empty database, not even migrated (for tests of migrations and of migrate-store). */
export async function createEmptyDatabase(): Promise<string> {
  const name = randomName('latch_empty')
  await adminClient().unsafe(`CREATE DATABASE ${name}`)
  return name
}

export async function dropTestDatabase(name: string): Promise<void> {
  await adminClient().unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
}

process.once('beforeExit', () => {
  for (const name of made.splice(0)) void dropTestDatabase(name).catch(() => {})
})
