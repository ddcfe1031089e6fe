// Builds every SQLite store over one connection.
import type { Stores } from '../stores'
import { SqliteApiStore } from './apis'
import { type EngineOptions, openDatabase, SqliteEngine, type Database } from './engine'
import { SqliteIdentityStore } from './identities'
import { SqliteKeyStore, SqliteVerificationEventStore } from './keys'
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
  return {
    db,
    transaction: (work) => sql.transaction(work),
    externalVersion: () => sql.externalVersion(),
    workspaces: new SqliteWorkspaceStore(sql),
    rootKeys: new SqliteRootKeyStore(sql),
    apis: new SqliteApiStore(sql),
    keys: new SqliteKeyStore(sql),
    verificationEvents: new SqliteVerificationEventStore(sql),
    rbac: new SqliteRbacStore(sql),
    identities: new SqliteIdentityStore(sql),
    ratelimitDefinitions: new SqliteRatelimitDefinitionStore(sql),
    ratelimitNamespaces: new SqliteRatelimitNamespaceStore(sql),
    settings: new SqliteSettingsStore(sql),
    close: () => sql.close(),
  }
}

/** Opens (creating and migrating) the database file and builds its stores. */
export function openSqliteStores(path: string, options: Omit<EngineOptions, 'path'> = {}): SqliteStores {
  return sqliteStores(openDatabase(path), { ...options, path })
}
