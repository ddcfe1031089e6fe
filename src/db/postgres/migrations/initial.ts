// Version 1 of the PostgreSQL schema: everything SQLite's versions 1 to 11
// built, in PostgreSQL's types. Never edit a released migration: add a new one.
//
// Choices that keep both engines answering alike: every text column compares
// bytes (COLLATE "C"), as SQLite's BINARY does, so ids order and paginate the
// same way; times are unix milliseconds in bigint; JSON (meta, permissions,
// tags, resources) is stored as the text latch wrote; identity columns are BY
// DEFAULT so that `latch migrate-store` can copy SQLite's row ids.
import type { Migration } from './migration'

/** A text column that compares bytes, as SQLite does. */
const T = 'TEXT COLLATE "C"'

const verificationRollup = (grain: string) => `
  CREATE TABLE verification_rollups_per_${grain} (
    workspace_id ${T} NOT NULL,
    time BIGINT NOT NULL,
    key_space_id ${T} NOT NULL,
    identity_id ${T} NOT NULL,
    external_id ${T} NOT NULL,
    key_id ${T} NOT NULL,
    outcome ${T} NOT NULL,
    tags ${T} NOT NULL,
    count BIGINT NOT NULL,
    spent_credits BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, time, key_space_id, identity_id, external_id, key_id, outcome, tags)
  );`

const ratelimitRollup = (grain: string) => `
  CREATE TABLE ratelimit_rollups_per_${grain} (
    workspace_id ${T} NOT NULL,
    time BIGINT NOT NULL,
    namespace_id ${T} NOT NULL,
    identifier ${T} NOT NULL,
    passed BIGINT NOT NULL,
    total BIGINT NOT NULL,
    total_tokens BIGINT NOT NULL,
    passed_tokens BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, time, namespace_id, identifier)
  );`

const GRAINS = ['minute', 'hour', 'day', 'month']

export const initialSchema: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE workspaces (
        id ${T} PRIMARY KEY,
        name ${T} NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE root_keys (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name ${T} NOT NULL,
        hash ${T} NOT NULL UNIQUE,
        start ${T} NOT NULL,
        permissions ${T} NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        revoked_at BIGINT,
        last_used_at BIGINT,
        seeded BOOLEAN NOT NULL DEFAULT false
      );
      CREATE INDEX root_keys_workspace ON root_keys(workspace_id, id);
      CREATE TABLE apis (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name ${T} NOT NULL,
        delete_protection BOOLEAN NOT NULL DEFAULT false,
        created_at BIGINT NOT NULL,
        deleted_at BIGINT
      );
      CREATE INDEX apis_workspace ON apis(workspace_id, id);
      CREATE TABLE identities (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        external_id ${T} NOT NULL,
        meta ${T},
        created_at BIGINT NOT NULL,
        updated_at BIGINT,
        deleted_at BIGINT
      );
      CREATE UNIQUE INDEX identities_external_id ON identities(workspace_id, external_id) WHERE deleted_at IS NULL;
      CREATE INDEX identities_workspace ON identities(workspace_id, id);
      CREATE TABLE key_migrations (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        algorithm ${T} NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE keys (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        api_id ${T} NOT NULL REFERENCES apis(id) ON DELETE CASCADE,
        hash ${T} NOT NULL,
        start ${T} NOT NULL,
        name ${T},
        meta ${T},
        identity_id ${T} REFERENCES identities(id) ON DELETE SET NULL,
        enabled BOOLEAN NOT NULL DEFAULT true,
        expires_at BIGINT,
        remaining BIGINT,
        refill_amount BIGINT,
        refill_day INTEGER,
        last_refill_at BIGINT,
        encrypted ${T},
        created_at BIGINT NOT NULL,
        updated_at BIGINT,
        last_used_at BIGINT,
        deleted_at BIGINT,
        pending_migration_id ${T} REFERENCES key_migrations(id),
        UNIQUE (workspace_id, hash)
      );
      CREATE INDEX keys_api ON keys(api_id, id);
      CREATE INDEX keys_identity ON keys(identity_id);
      CREATE INDEX keys_pending_migration ON keys(pending_migration_id, hash) WHERE pending_migration_id IS NOT NULL;
      CREATE INDEX keys_refill_due ON keys(refill_day, coalesce(last_refill_at, created_at))
        WHERE refill_amount IS NOT NULL AND deleted_at IS NULL;
      CREATE TABLE ratelimits (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        key_id ${T} REFERENCES keys(id) ON DELETE CASCADE,
        identity_id ${T} REFERENCES identities(id) ON DELETE CASCADE,
        name ${T} NOT NULL,
        "limit" BIGINT NOT NULL,
        duration BIGINT NOT NULL,
        auto_apply BOOLEAN NOT NULL DEFAULT false,
        created_at BIGINT NOT NULL,
        CHECK ((key_id IS NULL) <> (identity_id IS NULL))
      );
      CREATE UNIQUE INDEX ratelimits_key_name ON ratelimits(key_id, name) WHERE key_id IS NOT NULL;
      CREATE UNIQUE INDEX ratelimits_identity_name ON ratelimits(identity_id, name) WHERE identity_id IS NOT NULL;
      CREATE TABLE scheduler_state (
        name ${T} PRIMARY KEY,
        value ${T} NOT NULL
      );
      CREATE TABLE permissions (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name ${T} NOT NULL,
        slug ${T} NOT NULL,
        description ${T},
        created_at BIGINT NOT NULL,
        updated_at BIGINT
      );
      CREATE UNIQUE INDEX permissions_slug ON permissions(workspace_id, slug);
      CREATE TABLE roles (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name ${T} NOT NULL,
        description ${T},
        created_at BIGINT NOT NULL,
        updated_at BIGINT
      );
      CREATE UNIQUE INDEX roles_name ON roles(workspace_id, name);
      CREATE TABLE roles_permissions (
        role_id ${T} NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        permission_id ${T} NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
        PRIMARY KEY (role_id, permission_id)
      );
      CREATE INDEX roles_permissions_permission ON roles_permissions(permission_id);
      CREATE TABLE keys_permissions (
        key_id ${T} NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
        permission_id ${T} NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
        PRIMARY KEY (key_id, permission_id)
      );
      CREATE INDEX keys_permissions_permission ON keys_permissions(permission_id);
      CREATE TABLE keys_roles (
        key_id ${T} NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
        role_id ${T} NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
        PRIMARY KEY (key_id, role_id)
      );
      CREATE INDEX keys_roles_role ON keys_roles(role_id);
      CREATE TABLE ratelimit_namespaces (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name ${T} NOT NULL,
        created_at BIGINT NOT NULL,
        deleted_at BIGINT
      );
      CREATE UNIQUE INDEX ratelimit_namespaces_name ON ratelimit_namespaces(workspace_id, name);
      CREATE TABLE ratelimit_overrides (
        id ${T} PRIMARY KEY,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        namespace_id ${T} NOT NULL REFERENCES ratelimit_namespaces(id) ON DELETE CASCADE,
        identifier ${T} NOT NULL,
        "limit" BIGINT NOT NULL,
        duration BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT
      );
      CREATE UNIQUE INDEX ratelimit_overrides_identifier ON ratelimit_overrides(namespace_id, identifier);
      CREATE TABLE settings (
        name ${T} PRIMARY KEY,
        value ${T} NOT NULL
      );
      CREATE TABLE audit_logs (
        seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        id ${T} NOT NULL UNIQUE,
        time BIGINT NOT NULL,
        workspace_id ${T} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        event ${T} NOT NULL,
        actor_type ${T} NOT NULL,
        actor_id ${T} NOT NULL,
        actor_name ${T},
        resources ${T} NOT NULL,
        description ${T} NOT NULL,
        request_id ${T},
        remote_addr ${T},
        user_agent ${T}
      );
      CREATE INDEX audit_logs_workspace_time ON audit_logs(workspace_id, time, seq);
      CREATE INDEX audit_logs_workspace_event ON audit_logs(workspace_id, event, time, seq);
      CREATE INDEX audit_logs_workspace_actor ON audit_logs(workspace_id, actor_id, time, seq);
      CREATE INDEX audit_logs_time ON audit_logs(time, seq);
      CREATE TABLE audit_log_resources (
        audit_seq BIGINT NOT NULL REFERENCES audit_logs(seq) ON DELETE CASCADE,
        workspace_id ${T} NOT NULL,
        resource_id ${T} NOT NULL,
        time BIGINT NOT NULL,
        PRIMARY KEY (audit_seq, resource_id)
      );
      CREATE INDEX audit_log_resources_resource ON audit_log_resources(workspace_id, resource_id, time, audit_seq);
      CREATE TABLE verification_events (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        time BIGINT NOT NULL,
        workspace_id ${T} NOT NULL,
        api_id ${T},
        key_id ${T},
        identity_id ${T},
        outcome ${T} NOT NULL,
        tags ${T},
        credits_spent BIGINT NOT NULL DEFAULT 0,
        request_id ${T} NOT NULL DEFAULT '',
        external_id ${T} NOT NULL DEFAULT '',
        latency DOUBLE PRECISION NOT NULL DEFAULT 0
      );
      CREATE INDEX verification_events_key ON verification_events(workspace_id, key_id, time);
      CREATE INDEX verification_events_time ON verification_events(time);
      CREATE INDEX verification_events_workspace_time ON verification_events(workspace_id, time);
      CREATE TABLE ratelimit_events (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        request_id ${T} NOT NULL,
        time BIGINT NOT NULL,
        workspace_id ${T} NOT NULL,
        namespace_id ${T} NOT NULL,
        identifier ${T} NOT NULL,
        passed BOOLEAN NOT NULL,
        latency DOUBLE PRECISION NOT NULL,
        override_id ${T} NOT NULL,
        "limit" BIGINT NOT NULL,
        remaining BIGINT NOT NULL,
        reset_at BIGINT NOT NULL,
        tokens BIGINT NOT NULL
      );
      CREATE INDEX ratelimit_events_workspace_time ON ratelimit_events(workspace_id, time);
      CREATE INDEX ratelimit_events_time ON ratelimit_events(time);
      ${GRAINS.map(verificationRollup).join('\n')}
      ${GRAINS.map(ratelimitRollup).join('\n')}

      -- Every node caches root keys; a change by any connection (another node, the CLI)
      -- tells them all to drop the cache (src/db/postgres/engine.ts listens).
      CREATE FUNCTION latch_root_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('latch_root_keys', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER root_keys_changed
        AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, workspace_id, hash, permissions, expires_at, revoked_at ON root_keys
        FOR EACH STATEMENT EXECUTE FUNCTION latch_root_keys_changed();

      -- For analytics queries (src/modules/analytics/query, PostgreSQL dialect): ClickHouse's
      -- JSONExtractString and a lenient date-time parse, both NULL-safe and never failing.
      CREATE FUNCTION latch_json_string(doc TEXT, path TEXT[]) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
      DECLARE
        value JSONB;
      BEGIN
        value := doc::jsonb #> path;
        IF jsonb_typeof(value) = 'string' THEN
          RETURN value #>> '{}';
        END IF;
        RETURN '';
      EXCEPTION WHEN OTHERS THEN
        RETURN '';
      END $$;
      CREATE FUNCTION latch_parse_time(value TEXT) RETURNS BIGINT LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
      BEGIN
        IF value !~ '^\\s*\\d{4}-\\d{2}-\\d{2}' THEN
          RETURN NULL;
        END IF;
        RETURN floor(extract(epoch FROM value::timestamp))::bigint * 1000;
      EXCEPTION WHEN OTHERS THEN
        RETURN NULL;
      END $$;
    `,
  },
]
