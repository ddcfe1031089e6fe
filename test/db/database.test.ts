import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeDatabase, DatabaseTooNewError, openDatabase } from '../../src/db/sqlite/database'
import { migrations } from '../../src/db/sqlite/migrations'

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'latch-db-')), 'nested', 'latch.db')

describe('database', () => {
  test('applies every migration once, in WAL mode with foreign keys on', () => {
    const path = tempDb()
    const db = openDatabase(path)
    expect(db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    expect(db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    expect(db.query('PRAGMA synchronous').get()).toEqual({ synchronous: 1 })
    const versions = db.query('SELECT version FROM schema_migrations ORDER BY version').all()
    expect(versions).toEqual(migrations.map((m) => ({ version: m.version })))
    closeDatabase(db)
    const again = openDatabase(path)
    expect(again.query('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: migrations.length })
    closeDatabase(again)
  })

  test('refuses a database newer than this binary', () => {
    const path = tempDb()
    const db = openDatabase(path)
    db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future')
    closeDatabase(db)
    expect(() => openDatabase(path)).toThrow(DatabaseTooNewError)
    expect(() => openDatabase(path)).toThrow('schema version 999')
  })

  test('a failing migration leaves nothing half-applied', () => {
    const path = tempDb()
    const broken = [...migrations, { version: 100, name: 'broken', sql: 'CREATE TABLE half (id TEXT); SELECT * FROM missing_table;' }]
    expect(() => openDatabase(path, broken)).toThrow()
    const db = openDatabase(path)
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeNull()
    closeDatabase(db)
  })
})
