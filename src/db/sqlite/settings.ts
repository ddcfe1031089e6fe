// SQLite store of the settings table.
import type { SettingsStore } from '../stores/settings'
import type { SqliteEngine } from './engine'

export class SqliteSettingsStore implements SettingsStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      get: sql.prepare<{ value: string }, [string]>('SELECT value FROM settings WHERE name = ?'),
      put: sql.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    }
  }

  get(name: string) {
    return this.sql.run(() => this.stmt.get.get(name)?.value ?? null)
  }

  replace(name: string, expected: string | null, value: string) {
    return this.sql.run(() =>
      this.sql.db.transaction(() => {
        const current = this.stmt.get.get(name)?.value ?? null
        if (current !== expected) return current
        this.stmt.put.run(name, value)
        return value
      })(),
    )
  }
}
