// Migration 15 moves each key's last-used time out of the keys row into
// key_last_used (a narrow table, so the analytics writer dirties far fewer
// pages). Every time comes through; nothing else about a key changes.
import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeDatabase, openDatabase } from '../../src/db/sqlite/database'
import { migrations } from '../../src/db/sqlite/migrations'

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'latch-m15-')), 'latch.db')
const before15 = migrations.filter((m) => m.version < 15)

/** A database at schema version 14 with three keys, two of them used. */
function version14(path: string): void {
  const db = openDatabase(path, before15)
  db.query("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_a', 'a', 1)").run()
  db.query("INSERT INTO apis (id, workspace_id, name, created_at) VALUES ('api_a', 'ws_a', 'a', 1)").run()
  db.query(
    `INSERT INTO keys (id, workspace_id, api_id, hash, start, name, remaining, created_at, updated_at, last_used_at, deleted_at)
     VALUES ('key_1', 'ws_a', 'api_a', 'h1', 'sk_1', 'one', 5, 2, 3, 1700000000123, NULL),
            ('key_2', 'ws_a', 'api_a', 'h2', 'sk_2', NULL, NULL, 2, NULL, NULL, NULL),
            ('key_3', 'ws_a', 'api_a', 'h3', 'sk_3', NULL, NULL, 2, NULL, 9, 10)`,
  ).run()
  closeDatabase(db)
}

const keysWithout = (rows: Record<string, unknown>[]) => rows.map(({ last_used_at: _, ...rest }) => rest)

describe('migration 15: key_last_used', () => {
  test('every last-used time moves to key_last_used; the keys keep everything else', () => {
    const path = tempDb()
    version14(path)
    const old = openDatabase(path, before15)
    const keysBefore = old.query('SELECT * FROM keys ORDER BY id').all() as Record<string, unknown>[]
    closeDatabase(old)

    const db = openDatabase(path)
    expect(db.query('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({ v: migrations.at(-1)!.version })
    expect(db.query('SELECT key_id, at FROM key_last_used ORDER BY key_id').all()).toEqual([
      { key_id: 'key_1', at: 1700000000123 },
      { key_id: 'key_3', at: 9 },
    ])
    expect(db.query('SELECT * FROM keys ORDER BY id').all()).toEqual(keysWithout(keysBefore))
    expect((db.query('PRAGMA table_info(keys)').all() as { name: string }[]).map((c) => c.name)).not.toContain('last_used_at')
    expect(db.query('PRAGMA foreign_key_check').all()).toEqual([])
    expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })

    // A key's time goes with it, whether the key or its whole workspace is deleted.
    db.query("DELETE FROM keys WHERE id = 'key_1'").run()
    expect(db.query('SELECT key_id FROM key_last_used').all()).toEqual([{ key_id: 'key_3' }])
    db.query("DELETE FROM workspaces WHERE id = 'ws_a'").run()
    expect(db.query('SELECT count(*) AS n FROM key_last_used').get()).toEqual({ n: 0 })
    // And no time is kept for a key that does not exist.
    expect(() => db.query("INSERT INTO key_last_used (key_id, at) VALUES ('key_nope', 1)").run()).toThrow('FOREIGN KEY constraint failed')
    closeDatabase(db)
  })
})
