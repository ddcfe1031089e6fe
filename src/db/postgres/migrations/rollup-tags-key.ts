// Version 4: the verification rollups are keyed by a SHA-256 of their tags
// instead of the tags text. A B-tree entry holds at most 2704 bytes, and the
// tags a verification may send (1,024 characters, up to 3 bytes each in
// UTF-8, more once escaped in JSON) passed that together with the other key
// columns: the whole event batch then failed on every try ("index row size
// exceeds btree version 4 maximum"), and any client allowed to verify keys
// could stop a node's analytics. Each table gains `tags_key`, generated from
// `tags`, which takes the place of `tags` at the end of its primary key (a
// primary key still, so that logical replication, which needs one, can carry
// the table's updates and deletes); the upserts name it as their conflict
// target. SQLite has no such limit. Never edit a released migration: add a new one.
import type { Migration } from './migration'

const GRAINS = ['minute', 'hour', 'day', 'month']

export const rollupTagsKeySchema: Migration[] = [
  {
    version: 4,
    name: 'verification_rollups_tags_key',
    sql: `
      -- IMMUTABLE so that a generated column may use it: convert_to is only STABLE (conversions can be
      -- redefined), but to UTF-8 in a UTF-8 database, as latch's are, it changes nothing.
      CREATE FUNCTION latch_tags_key(tags TEXT) RETURNS BYTEA LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT sha256(convert_to(tags, 'UTF8')) $$;
      ${GRAINS.map(
        (grain) => `
      ALTER TABLE verification_rollups_per_${grain} ADD COLUMN tags_key BYTEA GENERATED ALWAYS AS (latch_tags_key(tags)) STORED;
      ALTER TABLE verification_rollups_per_${grain} DROP CONSTRAINT verification_rollups_per_${grain}_pkey,
        ADD PRIMARY KEY (workspace_id, time, key_space_id, identity_id, external_id, key_id, outcome, tags_key);`,
      ).join('')}
    `,
  },
]
