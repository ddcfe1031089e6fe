// The shape of one numbered PostgreSQL schema migration (applied in a transaction of its own).
export interface Migration {
  version: number
  name: string
  sql: string
}
