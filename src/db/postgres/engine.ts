// The PostgreSQL engine (Bun's built-in client, no ORM): a connection pool,
// the numbered migrations applied at start under an advisory lock, and
// transactions that every store call joins.
//
// A transaction is tracked with AsyncLocalStorage, as the SQLite engine does:
// every store call made inside `transaction(work)`, from any service, runs on
// the transaction's connection, and a nested call joins the outer one. It runs
// SERIALIZABLE, so the check-then-write rules of the services (a name is free,
// then it is taken) hold as they do under SQLite's single writer; a
// serialization failure reruns `work` from the start (a few times, then 503).
// Statements outside a transaction run on any pooled connection.
//
// Losing the server (refused, closed, timed out, shutting down) is a 503 for
// the request, never a 500, and so is waiting on a row lock longer than the
// busy deadline.
import { AsyncLocalStorage } from 'node:async_hooks'
import { SQL, type TransactionSQL } from 'bun'
import { serviceUnavailable } from '../../errors'
import { migrate } from './migrate'

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number
  /** How long a statement may wait for a row lock, and a connection may take to open, before the request fails with 503 (ms). */
  busyDeadlineMs?: number
  /** Runs before the first connection is used (tests create their database here). */
  prepare?: () => Promise<void>
}

export type Param = string | number | boolean | null

/** SQLSTATE classes and codes that mean "the database cannot answer now": 503, not 500. */
const UNAVAILABLE_STATES = /^(08|53|57P|58)|^25006$/

/** How often a transaction that lost a serialization race is run again. */
const SERIALIZATION_RETRIES = 8

/** True for the errors after which a transaction is simply run again. */
const isSerializationFailure = (error: unknown) => {
  const state = (error as { errno?: unknown }).errno
  return state === '40001' || state === '40P01'
}

/**
 * The 503 for an error that says the database is out of reach or too busy;
 * anything else as it is. A server error is judged by its SQLSTATE; an error
 * of Bun's own (no SQLSTATE: refused, closed, timed out) is always a 503.
 */
export function unavailable(error: unknown): unknown {
  if (!(error instanceof Error)) return error
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  if (typeof errno === 'string') {
    if (isSerializationFailure(error)) return serviceUnavailable('The database is busy (too many concurrent changes); try again shortly.')
    if (errno === '55P03') return serviceUnavailable('The database is busy (a row lock was held too long); try again shortly.')
    if (UNAVAILABLE_STATES.test(errno)) return serviceUnavailable(`The database cannot answer now (SQLSTATE ${errno}); try again shortly.`)
    return error
  }
  if (typeof code === 'string' && code.startsWith('ERR_POSTGRES_')) {
    return serviceUnavailable(`The database cannot be reached (${code.slice('ERR_POSTGRES_'.length).toLowerCase()}); try again shortly.`)
  }
  if (typeof code === 'string' && /^(ECONN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOTFOUND|EAI_)/.test(code)) {
    return serviceUnavailable(`The database cannot be reached (${code}); try again shortly.`)
  }
  return error
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A pool of connections to one PostgreSQL database, shared by every store. */
export class PostgresEngine {
  readonly pool: SQL
  private readonly context = new AsyncLocalStorage<TransactionSQL>()
  /** Settles once the database is migrated; every statement waits for it. */
  readonly ready: Promise<void>
  private isReady = false
  private version = 0
  private unlisten: (() => Promise<void>) | null = null
  private closed: Promise<void> | null = null
  private readonly poolSize: number

  constructor(
    readonly url: string,
    options: PostgresOptions = {},
  ) {
    const busy = options.busyDeadlineMs ?? 5_000
    this.poolSize = options.poolSize ?? 10
    this.pool = new SQL(url, {
      max: this.poolSize,
      bigint: true,
      connectionTimeout: Math.max(1, Math.ceil(busy / 1000)),
      // Waiting on another transaction's row lock is SQLite's busy wait: bounded, then 503.
      connection: { lock_timeout: busy, application_name: 'latch' },
    })
    this.ready = (async () => {
      await options.prepare?.()
      await this.guard(() => migrate(this.pool))
      // Another process (the CLI, another node) changing root keys: see the trigger of migration 1.
      const subscription = await this.guard(() =>
        this.pool.listen(
          'latch_root_keys',
          () => this.version++,
          () => this.version++,
        ),
      )
      this.unlisten = () => subscription.unlisten()
      this.isReady = true
    })()
    // Failures reach whoever awaits `ready` or runs a statement; not an unhandled rejection.
    this.ready.catch(() => {})
  }

  /**
   * Runs `work` and turns connection failures into 503. Inside a transaction a
   * serialization failure stays as it is, so that `transaction` can run the
   * whole transaction again.
   */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (this.inTransaction && isSerializationFailure(error)) throw error
      throw unavailable(error)
    }
  }

  /** The open transaction's connection, or the pool. */
  private client(): SQL {
    return this.context.getStore() ?? this.pool
  }

  /**
   * Runs one statement. Outside a transaction, a pooled connection that the
   * server had terminated (57P01/57P02: the statement was rolled back, never
   * committed) is dropped and the statement sent again on another.
   */
  private async statement<R>(text: string, params: readonly Param[]): Promise<R[] & { affectedRows: number }> {
    if (!this.isReady) await this.ready
    return this.guard(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.client().unsafe<R[]>(text, params as Param[])
        } catch (error) {
          const state = (error as { errno?: unknown }).errno
          if (this.inTransaction || (state !== '57P01' && state !== '57P02') || attempt > this.poolSize) throw error
        }
      }
    })
  }

  /** Rows of one statement (`$1`, `$2`, ... bind `params`). */
  async all<R>(text: string, params: readonly Param[] = []): Promise<R[]> {
    return [...(await this.statement<R>(text, params))]
  }

  /** The first row of one statement, or null. */
  async get<R>(text: string, params: readonly Param[] = []): Promise<R | null> {
    return (await this.all<R>(text, params))[0] ?? null
  }

  /** Runs one statement; resolves to the number of rows it wrote. */
  async run(text: string, params: readonly Param[] = []): Promise<number> {
    return (await this.statement(text, params)).affectedRows
  }

  /** True inside a transaction. */
  get inTransaction(): boolean {
    return this.context.getStore() !== undefined
  }

  /**
   * Runs `work` as one SERIALIZABLE transaction (see the header); a transaction
   * begun inside another joins it. Rolled back when `work` throws. With
   * `isolation: 'read committed'`, for work that locks the rows it changes
   * (SELECT ... FOR UPDATE) and so waits for a concurrent writer instead of
   * failing against it.
   */
  async transaction<T>(work: () => Promise<T>, isolation: 'serializable' | 'read committed' = 'serializable'): Promise<T> {
    if (this.inTransaction) return work()
    if (!this.isReady) await this.ready
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.begin(`ISOLATION LEVEL ${isolation.toUpperCase()}`, (tx) => this.context.run(tx, work))) as T
      } catch (error) {
        if (isSerializationFailure(error) && attempt < SERIALIZATION_RETRIES) {
          await pause(Math.random() * 5 * attempt)
          continue
        }
        throw unavailable(error)
      }
    }
  }

  /** Several statements as one unit: the caller's transaction, or one of their own (see `transaction` for `isolation`). */
  atomic<T>(work: () => Promise<T>, isolation: 'serializable' | 'read committed' = 'serializable'): Promise<T> {
    return this.inTransaction ? work() : this.transaction(work, isolation)
  }

  /** Changes whenever root keys are changed by any connection (this one included). Synchronous. */
  externalVersion(): number {
    return this.version
  }

  /** Closes every connection (waiting for running statements a moment). */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.ready.catch(() => {})
      await this.unlisten?.().catch(() => {})
      await this.pool.close({ timeout: 5 })
    })()
    return this.closed
  }
}
