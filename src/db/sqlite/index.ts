// Builds every SQLite store over one connection (and, for the server, the
// analytics writer thread with a connection of its own: ./event-thread.ts).
import { storesEventWriter } from '../event-writer'
import type { Stores } from '../stores'
import type { RatelimitEvent, VerificationEvent } from '../stores/analytics'
import { SqliteAnalyticsStore } from './analytics'
import { type SqliteEventStore, sqliteRatelimitEventStore, sqliteVerificationEventStore } from './analytics-events'
import { SqliteApiStore } from './apis'
import { SqliteAuditLogStore } from './audit'
import { type EngineOptions, SqliteEngine } from './engine'
import { openDatabase, type Database } from './database'
import { EventThread } from './event-thread'
import { OwedRollups } from './owed-rollups'
import { SqliteIdentityStore } from './identities'
import { KeyHashes } from './key-hashes'
import { lockWaiterCells } from './lock-wait'
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
  readonly verificationEvents: SqliteEventStore<VerificationEvent> & Stores['verificationEvents']
  readonly ratelimitEvents: SqliteEventStore<RatelimitEvent> & Stores['ratelimitEvents']
  /** The filter of stored key hashes, when kept (`keyHashFilter`). */
  readonly keyHashes: KeyHashes | null
}

export interface SqliteStoreOptions extends EngineOptions {
  /**
   * Write analytics batches on a thread of their own (the server; needs a
   * file). The log is then checkpointed by that thread instead of inside
   * this connection's commits.
   */
  eventThread?: boolean
  /** With `eventThread`: a write-ahead log longer than this is restarted from its beginning and its file cut back (default 64 MiB). */
  walLimitBytes?: number
  /**
   * Keep a filter of the stored key hashes (./key-hashes.ts), so that a key
   * nobody issued is answered without a read. Only for the process that holds
   * the server lock: every key written to the file must be written by it.
   */
  keyHashFilter?: boolean
}

/** How long after opening the filter of key hashes starts to be built. */
const KEY_HASHES_AFTER_MS = 500

/** The stores over an open database (the caller closes it through `close`). */
export function sqliteStores(db: Database, options: SqliteStoreOptions = {}): SqliteStores {
  // The server's request thread never blocks on the lock, and its writes go before the writer thread's
  // next transaction (EngineOptions.blockingWaitMs, lockWaiters).
  const lockWaiters = lockWaiterCells()
  const sql = new SqliteEngine(db, options.eventThread ? { blockingWaitMs: 0, lockWaiters: { counter: lockWaiters, role: 'announce' }, ...options } : options)
  const analytics = new SqliteAnalyticsStore(sql, options.path)
  const verificationEvents = sqliteVerificationEventStore(sql)
  const ratelimitEvents = sqliteRatelimitEventStore(sql)
  const keyHashes = options.keyHashFilter ? new KeyHashes(sql) : null
  // Built once start-up is over (the first requests are not kept waiting behind its reads); until then, a miss reads.
  if (keyHashes) (setTimeout(() => void keyHashes.start(), KEY_HASHES_AFTER_MS) as { unref?: () => void }).unref?.()
  const stores: Omit<SqliteStores, 'eventWriter' | 'close'> = {
    db,
    transaction: (work) => sql.transaction(work),
    externalVersion: () => sql.externalVersion(),
    workspaces: new SqliteWorkspaceStore(sql),
    rootKeys: new SqliteRootKeyStore(sql),
    apis: new SqliteApiStore(sql),
    keys: new SqliteKeyStore(sql, keyHashes),
    keyHashes,
    verificationEvents,
    ratelimitEvents,
    analytics,
    rbac: new SqliteRbacStore(sql),
    identities: new SqliteIdentityStore(sql),
    ratelimitDefinitions: new SqliteRatelimitDefinitionStore(sql),
    ratelimitNamespaces: new SqliteRatelimitNamespaceStore(sql),
    settings: new SqliteSettingsStore(sql),
    auditLogs: new SqliteAuditLogStore(sql),
  }
  const onThisThread = storesEventWriter(stores)
  const path = options.path
  if (!options.eventThread || !path || path === ':memory:') {
    return {
      ...stores,
      eventWriter: onThisThread,
      close: () => {
        keyHashes?.close()
        analytics.close()
        sql.close()
      },
    }
  }
  db.exec('PRAGMA wal_autocheckpoint = 0')
  // No journal_size_limit here: a reset of the log by this connection would cut the file back on the
  // request thread (an ftruncate of hundreds of MB after a burst of writes stalled every request
  // for 160-510 ms). The writer thread's connection cuts it back when it resets the log.
  // Lost thread: this connection writes the batches (with their rollups), checkpoints again as SQLite
  // does by default, and rebuilds the rollups the thread held back (else the next start does).
  const thread = new EventThread(
    path,
    { busyDeadlineMs: options.busyDeadlineMs ?? 5_000, walLimitBytes: options.walLimitBytes ?? 64 * 1024 * 1024, lockWaiters },
    onThisThread,
    () => {
      db.exec('PRAGMA wal_autocheckpoint = 1000')
      new OwedRollups(sql)
        .rebuild({ verifications: verificationEvents.rollups, ratelimits: ratelimitEvents.rollups })
        .catch((error) =>
          process.stderr.write(
            `${JSON.stringify({ level: 'error', message: 'rebuilding held-back analytics rollups failed; the next start retries', error: String(error) })}\n`,
          ),
        )
    },
  )
  return {
    ...stores,
    eventWriter: thread,
    close: async () => {
      try {
        keyHashes?.close()
        await thread.close()
      } finally {
        analytics.close()
        sql.close()
      }
    },
  }
}

/**
 * Rebuilds the analytics rollups a crashed server's writer thread still owed
 * (./owed-rollups.ts), for a process that holds the server lock and has no
 * writer thread (`latch migrate-store`); returns how many ranges.
 */
export function rebuildOwedRollups(db: Database): Promise<number> {
  const sql = new SqliteEngine(db)
  return new OwedRollups(sql).rebuild({ verifications: sqliteVerificationEventStore(sql).rollups, ratelimits: sqliteRatelimitEventStore(sql).rollups })
}

/** Opens (creating and migrating) the database file and builds its stores. */
export function openSqliteStores(path: string, options: Omit<SqliteStoreOptions, 'path'> = {}): SqliteStores {
  return sqliteStores(openDatabase(path), { ...options, path })
}
