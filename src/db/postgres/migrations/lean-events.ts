// Versions 2 and 3: cheaper analytics writes, as SQLite's versions 13 and 15
// (see src/db/sqlite/migrations/lean-events.ts for why). 2: verification
// events lose their per-key index. 3: a key's last-used time moves out of the
// keys row (which also spares every recorded use a new version of that row).
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
  {
    version: 3,
    name: 'key_last_used',
    sql: `
      CREATE TABLE key_last_used (
        key_id TEXT COLLATE "C" PRIMARY KEY REFERENCES keys(id) ON DELETE CASCADE,
        at BIGINT NOT NULL
      );
      INSERT INTO key_last_used (key_id, at) SELECT id, last_used_at FROM keys WHERE last_used_at IS NOT NULL;
      ALTER TABLE keys DROP COLUMN last_used_at;
    `,
  },
]
