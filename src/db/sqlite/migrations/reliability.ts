// Versions 7 to 9: per-workspace key hashes, settings (master key fingerprint), event retention.
// Never edit a released migration: add a new one.
import type { Migration } from './migration'

export const reliabilitySchema: Migration[] = [
  {
    version: 6,
    name: 'keys_refill_due_index',
    sql: `
      DROP INDEX keys_refill;
      CREATE INDEX keys_refill_due ON keys(refill_day, coalesce(last_refill_at, created_at))
        WHERE refill_amount IS NOT NULL AND deleted_at IS NULL;
    `,
  },
  {
    // Key hashes become unique per workspace, not across all of them, so that
    // nothing a workspace does (keys.migrateKeys) depends on another's keys.
    // SQLite cannot drop a column's UNIQUE: the table is rebuilt (SQLite's
    // 12-step procedure), same columns in the same order, same indexes.
    version: 7,
    name: 'keys_hash_unique_per_workspace',
    foreignKeysOff: true,
    sql: `
      CREATE TABLE keys_new (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
        hash TEXT NOT NULL,
        start TEXT NOT NULL,
        name TEXT,
        meta TEXT,
        identity_id TEXT REFERENCES identities(id) ON DELETE SET NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        expires_at INTEGER,
        remaining INTEGER,
        refill_amount INTEGER,
        refill_day INTEGER,
        last_refill_at INTEGER,
        encrypted TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER,
        last_used_at INTEGER,
        deleted_at INTEGER,
        pending_migration_id TEXT REFERENCES key_migrations(id),
        UNIQUE (workspace_id, hash)
      );
      INSERT INTO keys_new (id, workspace_id, api_id, hash, start, name, meta, identity_id, enabled, expires_at, remaining,
          refill_amount, refill_day, last_refill_at, encrypted, created_at, updated_at, last_used_at, deleted_at, pending_migration_id)
        SELECT id, workspace_id, api_id, hash, start, name, meta, identity_id, enabled, expires_at, remaining,
          refill_amount, refill_day, last_refill_at, encrypted, created_at, updated_at, last_used_at, deleted_at, pending_migration_id
        FROM keys;
      DROP TABLE keys;
      ALTER TABLE keys_new RENAME TO keys;
      CREATE INDEX keys_api ON keys(api_id, id);
      CREATE INDEX keys_identity ON keys(identity_id);
      CREATE INDEX keys_pending_migration ON keys(pending_migration_id, hash) WHERE pending_migration_id IS NOT NULL;
      CREATE INDEX keys_refill_due ON keys(refill_day, coalesce(last_refill_at, created_at))
        WHERE refill_amount IS NOT NULL AND deleted_at IS NULL;
    `,
  },
  {
    // Named settings of the database itself; the first is the fingerprint of the
    // master key its recoverable keys are encrypted with. A database that already
    // holds encrypted keys gets 'unknown': whichever master key sealed them, latch
    // must never create a new one for it.
    version: 8,
    name: 'settings',
    sql: `
      CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO settings (name, value)
        SELECT 'master_key_fingerprint', 'unknown' WHERE EXISTS (SELECT 1 FROM keys WHERE encrypted IS NOT NULL);
    `,
  },
]
