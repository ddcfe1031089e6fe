// Versions 10 and 11: the audit log, and verification/ratelimit events with their rollups for analytics.
// Never edit a released migration: add a new one.
import type { Migration } from './migration'

export const auditAnalyticsSchema: Migration[] = [
  {
    // Retention: the scheduled job deletes events by age.
    version: 9,
    name: 'verification_events_time',
    sql: `
      CREATE INDEX verification_events_time ON verification_events(time);
    `,
  },
  {
    // The audit log: one row per change, listed newest first per workspace,
    // optionally narrowed by event or actor (one index each), by the resources
    // an event touched (a side table whose index gives a resource's events in
    // order, where json_each over every row's resources would scan the whole
    // workspace), and pruned by age (audit_logs_time). Ids are random, so
    // `seq` (the rowid, stable across VACUUM as a declared INTEGER PRIMARY
    // KEY, and implied at the end of every index) orders events of one
    // millisecond.
    version: 10,
    name: 'audit_logs',
    sql: `
      CREATE TABLE audit_logs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        time INTEGER NOT NULL,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        event TEXT NOT NULL,
        actor_type TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT,
        resources TEXT NOT NULL,
        description TEXT NOT NULL,
        request_id TEXT,
        remote_addr TEXT,
        user_agent TEXT
      );
      CREATE INDEX audit_logs_workspace_time ON audit_logs(workspace_id, time);
      CREATE INDEX audit_logs_workspace_event ON audit_logs(workspace_id, event, time);
      CREATE INDEX audit_logs_workspace_actor ON audit_logs(workspace_id, actor_id, time);
      CREATE INDEX audit_logs_time ON audit_logs(time);
      CREATE TABLE audit_log_resources (
        audit_seq INTEGER NOT NULL REFERENCES audit_logs(seq) ON DELETE CASCADE,
        workspace_id TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        PRIMARY KEY (audit_seq, resource_id)
      ) WITHOUT ROWID;
      CREATE INDEX audit_log_resources_resource ON audit_log_resources(workspace_id, resource_id, time, audit_seq);
    `,
  },
  {
    // Analytics (analytics.getVerifications / getRatelimits): verification
    // events gain the columns of key_verifications_v1 that latch knows (the
    // request id, the identity's external id, latency; existing rows get '' /
    // their identity's external id / 0), ratelimit decisions get an event table,
    // and both get per-minute/hour/day/month rollups, kept current by each batch
    // insert. The verification rollups start from the events already stored.
    // A rollup's key starts with (workspace_id, time): queries are always per
    // workspace, and pruning walks the workspaces, so no second index is kept.
    version: 11,
    name: 'analytics_events_rollups',
    sql: `
      ALTER TABLE verification_events ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE verification_events ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE verification_events ADD COLUMN latency REAL NOT NULL DEFAULT 0;
      UPDATE verification_events SET external_id = coalesce((SELECT external_id FROM identities WHERE identities.id = verification_events.identity_id), '')
        WHERE identity_id IS NOT NULL;
      CREATE INDEX verification_events_workspace_time ON verification_events(workspace_id, time);
      CREATE TABLE ratelimit_events (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        workspace_id TEXT NOT NULL,
        namespace_id TEXT NOT NULL,
        identifier TEXT NOT NULL,
        passed INTEGER NOT NULL,
        latency REAL NOT NULL,
        override_id TEXT NOT NULL,
        "limit" INTEGER NOT NULL,
        remaining INTEGER NOT NULL,
        reset_at INTEGER NOT NULL,
        tokens INTEGER NOT NULL
      );
      CREATE INDEX ratelimit_events_workspace_time ON ratelimit_events(workspace_id, time);
      CREATE INDEX ratelimit_events_time ON ratelimit_events(time);
      CREATE TABLE verification_rollups_per_minute (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        key_space_id TEXT NOT NULL,
        identity_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        tags TEXT NOT NULL,
        count INTEGER NOT NULL,
        spent_credits INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, key_space_id, identity_id, external_id, key_id, outcome, tags)
      ) WITHOUT ROWID;
      INSERT INTO verification_rollups_per_minute
        SELECT workspace_id, time / 60000 * 60000, coalesce(api_id, ''), coalesce(identity_id, ''), external_id, coalesce(key_id, ''), outcome,
          coalesce(tags, '[]'), COUNT(*), SUM(credits_spent)
        FROM verification_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE ratelimit_rollups_per_minute (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        identifier TEXT NOT NULL,
        passed INTEGER NOT NULL,
        total INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        passed_tokens INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, namespace_id, identifier)
      ) WITHOUT ROWID;
      CREATE TABLE verification_rollups_per_hour (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        key_space_id TEXT NOT NULL,
        identity_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        tags TEXT NOT NULL,
        count INTEGER NOT NULL,
        spent_credits INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, key_space_id, identity_id, external_id, key_id, outcome, tags)
      ) WITHOUT ROWID;
      INSERT INTO verification_rollups_per_hour
        SELECT workspace_id, time / 3600000 * 3600000, coalesce(api_id, ''), coalesce(identity_id, ''), external_id, coalesce(key_id, ''), outcome,
          coalesce(tags, '[]'), COUNT(*), SUM(credits_spent)
        FROM verification_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE ratelimit_rollups_per_hour (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        identifier TEXT NOT NULL,
        passed INTEGER NOT NULL,
        total INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        passed_tokens INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, namespace_id, identifier)
      ) WITHOUT ROWID;
      CREATE TABLE verification_rollups_per_day (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        key_space_id TEXT NOT NULL,
        identity_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        tags TEXT NOT NULL,
        count INTEGER NOT NULL,
        spent_credits INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, key_space_id, identity_id, external_id, key_id, outcome, tags)
      ) WITHOUT ROWID;
      INSERT INTO verification_rollups_per_day
        SELECT workspace_id, time / 86400000 * 86400000, coalesce(api_id, ''), coalesce(identity_id, ''), external_id, coalesce(key_id, ''), outcome,
          coalesce(tags, '[]'), COUNT(*), SUM(credits_spent)
        FROM verification_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE ratelimit_rollups_per_day (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        identifier TEXT NOT NULL,
        passed INTEGER NOT NULL,
        total INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        passed_tokens INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, namespace_id, identifier)
      ) WITHOUT ROWID;
      CREATE TABLE verification_rollups_per_month (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        key_space_id TEXT NOT NULL,
        identity_id TEXT NOT NULL,
        external_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        tags TEXT NOT NULL,
        count INTEGER NOT NULL,
        spent_credits INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, key_space_id, identity_id, external_id, key_id, outcome, tags)
      ) WITHOUT ROWID;
      INSERT INTO verification_rollups_per_month
        SELECT workspace_id, unixepoch(time / 1000, 'unixepoch', 'start of month') * 1000, coalesce(api_id, ''), coalesce(identity_id, ''), external_id, coalesce(key_id, ''), outcome,
          coalesce(tags, '[]'), COUNT(*), SUM(credits_spent)
        FROM verification_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE ratelimit_rollups_per_month (
        workspace_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        namespace_id TEXT NOT NULL,
        identifier TEXT NOT NULL,
        passed INTEGER NOT NULL,
        total INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        passed_tokens INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, time, namespace_id, identifier)
      ) WITHOUT ROWID;
    `,
  },
]
