// Opens the store the configuration names: the SQLite file (the default: one
// serving process, which holds the file lock) or a PostgreSQL database
// (--database-url: any number of nodes, no file lock; migrations under an
// advisory lock). The server and every CLI command open their stores here.
import type { Config } from '../config'
import { lockDatabase } from './server-lock'
import { openSqliteStores } from './sqlite'
import type { Stores } from './stores'

export type Engine = 'sqlite' | 'postgresql'

export interface OpenedStores {
  stores: Stores
  engine: Engine
  /** Where the data is, for messages: the file, or the URL without its password. */
  location: string
  /** Closes the stores (and releases the file lock, if taken). */
  close(): Promise<void>
}

/** A database URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'the configured database URL'
  }
}

/**
 * Opens (creating and migrating) the configured store. With `eventThread`, a
 * SQLite store writes analytics batches on a thread of their own (the server).
 * With `lock`, a SQLite
 * file is locked for this process first (the server does this: see
 * src/db/server-lock.ts); PostgreSQL needs no lock.
 */
export async function openStores(config: Config, options: { lock?: boolean; eventThread?: boolean } = {}): Promise<OpenedStores> {
  const busyDeadlineMs = config.tunables.writeBusyTimeoutMs
  if (config.databaseUrl !== null) {
    // Loaded only when asked for: the PostgreSQL engine uses Bun's SQL client, which Deno lacks.
    const { openPostgresStores } = await import('./postgres')
    const stores = await openPostgresStores(config.databaseUrl, { busyDeadlineMs, poolSize: config.databasePoolSize })
    return { stores, engine: 'postgresql', location: redactUrl(config.databaseUrl), close: () => stores.close() }
  }
  const unlock = options.lock ? lockDatabase(config.dbPath) : () => {}
  let stores: ReturnType<typeof openSqliteStores>
  try {
    // Holding the lock, this process writes every key the file gets: it may keep the filter of their hashes.
    stores = openSqliteStores(config.dbPath, { busyDeadlineMs, eventThread: options.eventThread, keyHashFilter: options.lock })
  } catch (error) {
    unlock()
    throw error
  }
  return {
    stores,
    engine: 'sqlite',
    location: config.dbPath,
    close: async () => {
      try {
        await stores.close()
      } finally {
        unlock() // only once the database is closed: see src/db/server-lock.ts
      }
    },
  }
}
