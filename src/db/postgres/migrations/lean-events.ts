// Version 2: verification events lose their per-key index, as SQLite's version
// 13 does (see src/db/sqlite/migrations/lean-events.ts for why).
// Never edit a released migration: add a new one.
import type { Migration } from './migration'

export const leanEventsSchema: Migration[] = [
  {
    version: 2,
    name: 'drop_verification_events_key',
    sql: `
      DROP INDEX verification_events_key;
    `,
  },
]
