// Migration 7 rebuilds the keys table (hash unique per workspace instead of
// across all rows). A rebuild drops the old table: every key, and every row
// that points at a key (permissions, roles, ratelimits), must come through it.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeDatabase, type Database, migrate, openDatabase } from '../../src/db/sqlite/database'
import { migrations } from '../../src/db/sqlite/migrations'

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'latch-m7-')), 'latch.db')

/** A database at schema version 6 with two workspaces' keys and everything that hangs off them. */
function version6(path: string): void {
  const db = openDatabase(path, migrations.slice(0, 6))
  const run = (sql: string, ...params: (string | number | null)[]) => db.query(sql).run(...(params as never[]))
  for (const ws of ['ws_a', 'ws_b']) run('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, 1)', ws, ws)
  run("INSERT INTO apis (id, workspace_id, name, created_at) VALUES ('api_a', 'ws_a', 'a', 1), ('api_b', 'ws_b', 'b', 1)")
  run("INSERT INTO identities (id, workspace_id, external_id, created_at) VALUES ('id_a', 'ws_a', 'user', 1)")
  run("INSERT INTO key_migrations (id, workspace_id, algorithm, created_at) VALUES ('mig_a', 'ws_a', 'sha256_hex', 1)")
  run(
    `INSERT INTO keys (id, workspace_id, api_id, hash, start, name, meta, identity_id, enabled, expires_at, remaining,
       refill_amount, refill_day, last_refill_at, encrypted, created_at, updated_at, last_used_at, deleted_at, pending_migration_id)
     VALUES ('key_1', 'ws_a', 'api_a', 'h1', 'sk_1', 'one', '{"m":1}', 'id_a', 1, 99, 5, 10, 3, 7, 'enc', 2, 3, 4, NULL, NULL),
            ('key_2', 'ws_a', 'api_a', 'legacyhex', '', NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 2, NULL, NULL, NULL, 'mig_a'),
            ('key_3', 'ws_a', 'api_a', 'h3', 'sk_3', NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL, NULL, NULL, 2, NULL, NULL, 8, NULL),
            ('key_4', 'ws_b', 'api_b', 'h4', 'sk_4', NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL, NULL, NULL, 2, NULL, NULL, NULL, NULL)`,
  )
  run("INSERT INTO permissions (id, workspace_id, name, slug, created_at) VALUES ('perm_1', 'ws_a', 'read', 'read', 1)")
  run("INSERT INTO roles (id, workspace_id, name, created_at) VALUES ('role_1', 'ws_a', 'admin', 1)")
  run("INSERT INTO roles_permissions (role_id, permission_id) VALUES ('role_1', 'perm_1')")
  run("INSERT INTO keys_permissions (key_id, permission_id) VALUES ('key_1', 'perm_1'), ('key_2', 'perm_1')")
  run("INSERT INTO keys_roles (key_id, role_id) VALUES ('key_1', 'role_1')")
  run(
    `INSERT INTO ratelimits (id, workspace_id, key_id, identity_id, name, "limit", duration, created_at)
     VALUES ('rl_1', 'ws_a', 'key_1', NULL, 'requests', 10, 1000, 1), ('rl_2', 'ws_a', NULL, 'id_a', 'tokens', 5, 1000, 1)`,
  )
  closeDatabase(db)
}

const dump = (db: Database) =>
  Object.fromEntries(
    ['keys', 'keys_permissions', 'keys_roles', 'ratelimits', 'roles_permissions', 'identities', 'key_migrations'].map((table) => [
      table,
      db.query(`SELECT * FROM ${table} ORDER BY rowid`).all(),
    ]),
  )

describe('migration 7: key hashes unique per workspace', () => {
  test('every key, link and index survives the rebuild; columns keep their order', () => {
    const path = tempDb()
    version6(path)
    const old = openDatabase(path, migrations.slice(0, 6))
    const before = dump(old)
    const columnsBefore = old.query('PRAGMA table_info(keys)').all()
    closeDatabase(old)

    // Up to this migration: a later one moves a column out of keys (key-last-used.test.ts).
    const db = openDatabase(
      path,
      migrations.filter((m) => m.version <= 7),
    )
    expect(db.query('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({ v: 7 })
    expect(dump(db)).toEqual(before)
    expect(db.query('PRAGMA table_info(keys)').all()).toEqual(columnsBefore)
    const indexes = db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'keys' AND sql IS NOT NULL ORDER BY name").all()
    expect(indexes).toEqual([{ name: 'keys_api' }, { name: 'keys_identity' }, { name: 'keys_pending_migration' }, { name: 'keys_refill_due' }])
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'keys_new'").get()).toBeNull()
    expect(db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    expect(db.query('PRAGMA foreign_key_check').all()).toEqual([])
    expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })

    // The links still cascade from the rebuilt table.
    db.query("DELETE FROM keys WHERE id = 'key_1'").run()
    expect(db.query("SELECT COUNT(*) AS n FROM keys_permissions WHERE key_id = 'key_1'").get()).toEqual({ n: 0 })
    expect(db.query("SELECT COUNT(*) AS n FROM keys_roles WHERE key_id = 'key_1'").get()).toEqual({ n: 0 })
    expect(db.query("SELECT COUNT(*) AS n FROM ratelimits WHERE key_id = 'key_1'").get()).toEqual({ n: 0 })
    expect(db.query("SELECT COUNT(*) AS n FROM ratelimits WHERE identity_id = 'id_a'").get()).toEqual({ n: 1 })
    closeDatabase(db)
  })

  test('a hash may repeat across workspaces, never within one', () => {
    const path = tempDb()
    version6(path)
    const db = openDatabase(path)
    const insert = db.query("INSERT INTO keys (id, workspace_id, api_id, hash, start, created_at) VALUES (?, ?, ?, 'h4', '', 1)")
    insert.run('key_5', 'ws_a', 'api_a')
    expect(() => insert.run('key_6', 'ws_b', 'api_b')).toThrow('UNIQUE constraint failed: keys.workspace_id, keys.hash')
    expect(() => insert.run('key_7', 'ws_a', 'api_a')).toThrow('UNIQUE constraint failed')
    closeDatabase(db)
  })

  test('a migration with foreignKeysOff that breaks a reference is refused and rolled back', () => {
    const path = tempDb()
    version6(path)
    const breaking = [...migrations.slice(0, 6), { version: 7, name: 'orphan', foreignKeysOff: true, sql: "DELETE FROM roles WHERE id = 'role_1'" }]
    const db = openDatabase(path, migrations.slice(0, 6))
    expect(() => migrate(db, breaking)).toThrow('broken foreign key')
    expect(db.query("SELECT COUNT(*) AS n FROM roles WHERE id = 'role_1'").get()).toEqual({ n: 1 })
    expect(db.query('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({ v: 6 })
    // Switched back on for the connection that ran it.
    expect(db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    closeDatabase(db)
  })
})
