// PostgreSQL store of the settings table.
import type { SettingsStore } from '../stores/settings'
import type { PostgresEngine } from './engine'

export class PostgresSettingsStore implements SettingsStore {
  constructor(private readonly sql: PostgresEngine) {}

  async get(name: string) {
    return (await this.sql.get<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name]))?.value ?? null
  }

  /**
   * Compare-and-set in one transaction: the row lock (FOR UPDATE) orders
   * concurrent callers of a present setting; of two inserting an absent one,
   * the second's insert does nothing and it answers with the first's value.
   */
  replace(name: string, expected: string | null, value: string) {
    return this.sql.atomic(async () => {
      const current = (await this.sql.get<{ value: string }>('SELECT value FROM settings WHERE name = $1 FOR UPDATE', [name]))?.value ?? null
      if (current !== expected) return current
      if (current !== null) {
        await this.sql.run('UPDATE settings SET value = $2 WHERE name = $1', [name, value])
        return value
      }
      if ((await this.sql.run('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value])) > 0) return value
      return (await this.get(name))!
    })
  }
}
