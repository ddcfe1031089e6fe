// Versions 1 to 6: the schema latch shipped with (workspaces, root keys, APIs, keys, identities, ratelimits, RBAC, namespaces, key migrations).
// Never edit a released migration: add a new one.
import type { Migration } from './migration'

export const initialSchema: Migration[] = [
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
]
