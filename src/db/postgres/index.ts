// Builds every PostgreSQL store over one pool.
import { storesEventWriter } from '../event-writer'
import type { Stores } from '../stores'
import { PostgresAnalyticsStore } from './analytics'
import { postgresRatelimitEventStore, postgresVerificationEventStore } from './analytics-events'
import { PostgresApiStore } from './apis'
import { PostgresAuditLogStore } from './audit'
import { PostgresEngine, type PostgresOptions } from './engine'
import { PostgresIdentityStore } from './identities'
import { PostgresKeyStore } from './keys'
import { PostgresRatelimitDefinitionStore } from './ratelimitDefinitions'
import { PostgresRatelimitNamespaceStore } from './ratelimitNamespaces'
import { PostgresRbacStore } from './rbac'
import { PostgresRootKeyStore } from './rootKeys'
import { PostgresSettingsStore } from './settings'
import { PostgresWorkspaceStore } from './workspaces'

export interface PostgresStores extends Stores {
  /** The engine, for tests and maintenance commands. */
  readonly engine: PostgresEngine
  /** Settles once the database is reachable and migrated; every store call waits for it. */
  readonly ready: Promise<void>
  close(): Promise<void>
}

/** The stores over a PostgreSQL database; migrations start now and every call waits for them. */
export function postgresStores(url: string, options: PostgresOptions = {}): PostgresStores {
  const sql = new PostgresEngine(url, options)
  const analytics = new PostgresAnalyticsStore(sql)
  const stores: Omit<PostgresStores, 'eventWriter'> = {
    engine: sql,
    ready: sql.ready,
    transaction: (work) => sql.transaction(work),
    externalVersion: () => sql.externalVersion(),
    workspaces: new PostgresWorkspaceStore(sql),
    rootKeys: new PostgresRootKeyStore(sql),
    apis: new PostgresApiStore(sql),
    keys: new PostgresKeyStore(sql),
    verificationEvents: postgresVerificationEventStore(sql),
    ratelimitEvents: postgresRatelimitEventStore(sql),
    analytics,
    rbac: new PostgresRbacStore(sql),
    identities: new PostgresIdentityStore(sql),
    ratelimitDefinitions: new PostgresRatelimitDefinitionStore(sql),
    ratelimitNamespaces: new PostgresRatelimitNamespaceStore(sql),
    settings: new PostgresSettingsStore(sql),
    auditLogs: new PostgresAuditLogStore(sql),
    close: async () => {
      await analytics.close()
      await sql.close()
    },
  }
  // Bun.SQL does its network I/O off the event loop already: batches are written from here.
  return { ...stores, eventWriter: storesEventWriter(stores) }
}

/** Connects, migrates (under the advisory lock) and builds the stores; rejects when the database cannot be used. */
export async function openPostgresStores(url: string, options: PostgresOptions = {}): Promise<PostgresStores> {
  const stores = postgresStores(url, options)
  try {
    await stores.ready
  } catch (error) {
    await stores.close().catch(() => {})
    throw error
  }
  return stores
}
