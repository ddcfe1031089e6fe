// Versions 13 to 16: cheaper analytics writes.
//
// 13: verification events lose their per-key index. Nothing in latch
// reads raw events by key (per-key figures come from the rollups, whose keys
// start with the bucket), and a user's query on key_verifications_v1 is
// bounded by time, which (workspace_id, time) serves. Keeping it cost every
// verification a random insert into a large index: about half the analytics
// writer's time per event under load spread over many keys.
//
// 14: the analytics writer thread writes raw events at once and their rollups
// up to a second later, grouped over every batch of that second (four upserts
// per event cost more than the rest of a verification). Each transaction of
// raw rows notes the range of ids whose rollups it owes, in `rollups_owed`;
// the transaction that writes a grain's rollups sets that grain's bit, and the
// row goes with the last. After a crash, a server rebuilds the rollups a row
// still owes from its raw rows (src/db/sqlite/owed-rollups.ts).
//
// 15: a key's last-used time moves out of the wide keys row into a narrow
// table of its own. Under load spread over a million keys, the writer set it
// on a different row of `keys` for nearly every event, and each such UPDATE
// dirtied (and logged) a page of whole key rows: 30-54 µs a key, against
// about 10 µs in key_last_used, whose pages hold a hundred keys each.
//
// 16: raw events lose their index on time alone. Only retention read it
// (every other reader is scoped to a workspace, which (workspace_id, time)
// serves), and retention now deletes workspace by workspace through that
// index (src/db/sqlite/analytics-events.ts). Keeping it cost the analytics
// writer thread 1.0-1.5 µs of its time per event, in the benchmark's
// interleaved runs.
// Never edit a released migration: add a new one.
import type { Migration } from './migration'

export const leanEventsSchema: Migration[] = [
  {
    version: 13,
    name: 'drop_verification_events_key',
    sql: `
      DROP INDEX verification_events_key;
    `,
  },
  {
    version: 14,
    name: 'rollups_owed',
    sql: `
      CREATE TABLE rollups_owed (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('verifications', 'ratelimits')),
        first_id INTEGER NOT NULL,
        last_id INTEGER NOT NULL,
        grains_done INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 15,
    name: 'key_last_used',
    sql: `
      CREATE TABLE key_last_used (
        key_id TEXT PRIMARY KEY REFERENCES keys(id) ON DELETE CASCADE,
        at INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO key_last_used (key_id, at) SELECT id, last_used_at FROM keys WHERE last_used_at IS NOT NULL;
      ALTER TABLE keys DROP COLUMN last_used_at;
    `,
  },
  {
    version: 16,
    name: 'drop_raw_event_time_indexes',
    sql: `
      DROP INDEX verification_events_time;
      DROP INDEX ratelimit_events_time;
    `,
  },
]
