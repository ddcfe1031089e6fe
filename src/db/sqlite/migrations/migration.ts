// The shape of one numbered schema migration.
export interface Migration {
  version: number
  name: string
  sql: string
  /**
   * Runs with foreign keys off (set before BEGIN, since SQLite ignores the
   * pragma inside a transaction), for table rebuilds: dropping a parent table
   * with them on would cascade into its children. The runner checks every
   * foreign key before COMMIT and turns them back on.
   */
  foreignKeysOff?: boolean
}
