// The store interfaces: everything latch persists, one store per group of
// tables, asynchronous at the boundary so that an engine that answers over the
// network can implement them. Services depend on these interfaces only; the
// engines live in src/db/sqlite/ and src/db/postgres/, opened by src/db/open.ts.
import type { AnalyticsStore, EventWriter, RatelimitEventStore, VerificationEventStore } from './analytics'
import type { ApiStore } from './apis'
import type { AuditLogStore } from './audit'
import type { IdentityStore } from './identities'
import type { KeyStore } from './keys'
import type { RatelimitDefinitionStore } from './ratelimitDefinitions'
import type { RatelimitNamespaceStore } from './ratelimitNamespaces'
import type { RbacStore } from './rbac'
import type { RootKeyStore } from './rootKeys'
import type { SettingsStore } from './settings'
import type { WorkspaceStore } from './workspaces'

export interface Stores {
  /**
   * Runs `work` as one atomic, isolated transaction. Every store call made
   * while it runs (from any service) joins it; a nested call joins the outer
   * transaction. Rolled back when `work` throws.
   */
  transaction<T>(work: () => Promise<T>): Promise<T>
  /** Changes whenever another process commits to the store (e.g. the CLI revoking a root key). Synchronous and cheap. */
  externalVersion(): number
  readonly workspaces: WorkspaceStore
  readonly rootKeys: RootKeyStore
  readonly apis: ApiStore
  readonly keys: KeyStore
  readonly verificationEvents: VerificationEventStore
  readonly ratelimitEvents: RatelimitEventStore
  /** Where the buffered event logs write their batches (through the two stores above, on this thread or another). */
  readonly eventWriter: EventWriter
  readonly analytics: AnalyticsStore
  readonly rbac: RbacStore
  readonly identities: IdentityStore
  readonly ratelimitDefinitions: RatelimitDefinitionStore
  readonly ratelimitNamespaces: RatelimitNamespaceStore
  readonly settings: SettingsStore
  readonly auditLogs: AuditLogStore
  /** Writes everything to disk and releases the store (PostgreSQL: once its connections are closed). */
  close(): void | Promise<void>
}
