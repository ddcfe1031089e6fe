// Builds every SQLite store over one connection.
import type { Stores } from '../stores'
import { SqliteAnalyticsStore } from './analytics'
import { sqliteRatelimitEventStore, sqliteVerificationEventStore } from './analytics-events'
import { SqliteApiStore } from './apis'
import { SqliteAuditLogStore } from './audit'
import { type EngineOptions, openDatabase, SqliteEngine, type Database } from './engine'
import { SqliteIdentityStore } from './identities'
import { SqliteKeyStore } from './keys'
import { SqliteRatelimitDefinitionStore } from './ratelimitDefinitions'
import { SqliteRatelimitNamespaceStore } from './ratelimitNamespaces'
import { SqliteRbacStore } from './rbac'
import { SqliteRootKeyStore } from './rootKeys'
import { SqliteSettingsStore } from './settings'
import { SqliteWorkspaceStore } from './workspaces'

export interface SqliteStores extends Stores {
  /** The raw connection, for tests and maintenance commands. */
  readonly db: Database
}

/** The stores over an open database (the caller closes it through `close`). */
export function sqliteStores(db: Database, options: EngineOptions = {}): SqliteStores {
  const sql = new SqliteEngine(db, options)
  const analytics = new SqliteAnalyticsStore(sql, options.path)
  return {
    db,
    transaction: (work) => sql.transaction(work),
    externalVersion: () => sql.externalVersion(),
    workspaces: new SqliteWorkspaceStore(sql),
    rootKeys: new SqliteRootKeyStore(sql),
    apis: new SqliteApiStore(sql),
    keys: new SqliteKeyStore(sql),
    verificationEvents: sqliteVerificationEventStore(sql),
    ratelimitEvents: sqliteRatelimitEventStore(sql),
    analytics,
    rbac: new SqliteRbacStore(sql),
    identities: new SqliteIdentityStore(sql),
    ratelimitDefinitions: new SqliteRatelimitDefinitionStore(sql),
    ratelimitNamespaces: new SqliteRatelimitNamespaceStore(sql),
    settings: new SqliteSettingsStore(sql),
    auditLogs: new SqliteAuditLogStore(sql),
    close: () => {
      analytics.close()
      sql.close()
    },
  }
}

/** Opens (creating and migrating) the database file and builds its stores. */
export function openSqliteStores(path: string, options: Omit<EngineOptions, 'path'> = {}): SqliteStores {
  return sqliteStores(openDatabase(path), { ...options, path })
}
