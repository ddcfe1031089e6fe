// Numbered schema migrations, applied in order at start. Kept as TypeScript so
// they are bundled into the compiled binary. Never edit a released migration:
// add a new one.
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

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'workspaces_root_keys_apis',
    sql: `
      CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE root_keys (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        start TEXT NOT NULL,
        permissions TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        last_used_at INTEGER,
        seeded INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX root_keys_workspace ON root_keys(workspace_id, id);
      CREATE TABLE apis (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        delete_protection INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER
      );
      CREATE INDEX apis_workspace ON apis(workspace_id, id);
    `,
  },
  {
    version: 2,
    name: 'keys_identities',
    sql: `
      CREATE TABLE identities (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        external_id TEXT NOT NULL,
        meta TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER,
        deleted_at INTEGER
      );
      CREATE UNIQUE INDEX identities_external_id ON identities(workspace_id, external_id) WHERE deleted_at IS NULL;
      CREATE INDEX identities_workspace ON identities(workspace_id, id);
      CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
        hash TEXT NOT NULL UNIQUE,
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
        deleted_at INTEGER
      );
      CREATE INDEX keys_api ON keys(api_id, id);
      CREATE INDEX keys_identity ON keys(identity_id);
      CREATE INDEX keys_refill ON keys(refill_amount) WHERE refill_amount IS NOT NULL;
      CREATE TABLE ratelimits (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        key_id TEXT REFERENCES keys(id) ON DELETE CASCADE,
        identity_id TEXT REFERENCES identities(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        "limit" INTEGER NOT NULL,
        duration INTEGER NOT NULL,
        auto_apply INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        CHECK ((key_id IS NULL) <> (identity_id IS NULL))
      );
      CREATE UNIQUE INDEX ratelimits_key_name ON ratelimits(key_id, name) WHERE key_id IS NOT NULL;
      CREATE UNIQUE INDEX ratelimits_identity_name ON ratelimits(identity_id, name) WHERE identity_id IS NOT NULL;
      CREATE TABLE verification_events (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        workspace_id TEXT NOT NULL,
        api_id TEXT,
        key_id TEXT,
        identity_id TEXT,
        outcome TEXT NOT NULL,
        tags TEXT,
        credits_spent INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX verification_events_key ON verification_events(workspace_id, key_id, time);
      CREATE TABLE scheduler_state (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'rbac',
    sql: `
      CREATE TABLE permissions (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        slug TEXT NOT NULL,
        description TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER
      );
      CREATE UNIQUE INDEX permissions_slug ON permissions(workspace_id, slug);
      CREATE TABLE roles (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER
      );
      CREATE UNIQUE INDEX roles_name ON roles(workspace_id, name);
      CREATE TABLE roles_permissions (
        role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        permission_id TEXT NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
        PRIMARY KEY (role_id, permission_id)
      );
      CREATE INDEX roles_permissions_permission ON roles_permissions(permission_id);
      CREATE TABLE keys_permissions (
        key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
        permission_id TEXT NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
        PRIMARY KEY (key_id, permission_id)
      );
      CREATE INDEX keys_permissions_permission ON keys_permissions(permission_id);
      CREATE TABLE keys_roles (
        key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
        role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        PRIMARY KEY (key_id, role_id)
      );
      CREATE INDEX keys_roles_role ON keys_roles(role_id);
    `,
  },
  {
    version: 4,
    name: 'ratelimit_namespaces_overrides',
    sql: `
      CREATE TABLE ratelimit_namespaces (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER
      );
      CREATE UNIQUE INDEX ratelimit_namespaces_name ON ratelimit_namespaces(workspace_id, name);
      CREATE TABLE ratelimit_overrides (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        namespace_id TEXT NOT NULL REFERENCES ratelimit_namespaces(id) ON DELETE CASCADE,
        identifier TEXT NOT NULL,
        "limit" INTEGER NOT NULL,
        duration INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER
      );
      CREATE UNIQUE INDEX ratelimit_overrides_identifier ON ratelimit_overrides(namespace_id, identifier);
    `,
  },
  {
    version: 5,
    name: 'key_migrations',
    sql: `
      CREATE TABLE key_migrations (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        algorithm TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      ALTER TABLE keys ADD COLUMN pending_migration_id TEXT REFERENCES key_migrations(id);
      CREATE INDEX keys_pending_migration ON keys(pending_migration_id, hash) WHERE pending_migration_id IS NOT NULL;
    `,
  },
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
  {
    // Retention: the scheduled job deletes events by age.
    version: 9,
    name: 'verification_events_time',
    sql: `
      CREATE INDEX verification_events_time ON verification_events(time);
    `,
  },
]
