// Version 12: a counter of root-key changes, kept by triggers, so that a
// server learns of another process's change to root keys (the CLI revoking
// one) without taking every commit to the file as one: the analytics writer
// thread commits many times a second on a connection of its own.
// Never edit a released migration: add a new one.
import type { Migration } from './migration'

const bump = "UPDATE change_counters SET value = value + 1 WHERE name = 'root_keys';"

export const rootKeyVersionSchema: Migration[] = [
  {
    version: 12,
    name: 'root_key_change_counter',
    sql: `
      CREATE TABLE change_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO change_counters (name, value) VALUES ('root_keys', 0);
      CREATE TRIGGER root_keys_inserted AFTER INSERT ON root_keys BEGIN ${bump} END;
      CREATE TRIGGER root_keys_deleted AFTER DELETE ON root_keys BEGIN ${bump} END;
      -- Not last_used_at: the server writes it every second, and it decides nothing.
      CREATE TRIGGER root_keys_updated AFTER UPDATE OF workspace_id, name, hash, start, permissions, expires_at, revoked_at ON root_keys BEGIN ${bump} END;
    `,
  },
]
