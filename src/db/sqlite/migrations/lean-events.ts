// Version 13: verification events lose their per-key index. Nothing in latch
// reads raw events by key (per-key figures come from the rollups, whose keys
// start with the bucket), and a user's query on key_verifications_v1 is
// bounded by time, which (workspace_id, time) serves. Keeping it cost every
// verification a random insert into a large index: about half the analytics
// writer's time per event under load spread over many keys.
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
]
