// The PostgreSQL engine (Bun's built-in client, no ORM): a connection pool,
// the numbered migrations applied at start under an advisory lock, and
// transactions that every store call joins.
//
// A transaction is tracked with AsyncLocalStorage, as the SQLite engine does:
// every store call made inside `transaction(work)`, from any service, runs on
// the transaction's connection, and a nested call joins the outer one.
// Statements outside a transaction run on any pooled connection.
//
// Transactions run READ COMMITTED. SERIALIZABLE was tried first and failed a
// legitimate workload: its predicate locks cover whole index pages, so on the
// small tables of a workspace every get-or-create (an identity by externalId,
// a permission by slug, a key's ratelimits) conflicts with every other one in
// flight, and 32 concurrent keys.createKey answered 503 after eight reruns.
// The services' check-then-write rules hold here instead by:
//   - the unique indexes: a name taken meanwhile makes the insert fail
//     (23505), and the transaction is run again from the start, where the
//     check now sees the winner (409, or the existing row to reuse);
//   - a row another transaction deleted meanwhile (23503 on a reference to
//     it) likewise runs the transaction again;
//   - locks (of a row, or advisory) taken by the stores where a rule reads
//     and then writes on its strength (a credit balance, a key's grants or
//     ratelimits replaced whole, a role's permissions, an API's protection, a
//     root key rotated): writers of one thing take turns, each seeing the
//     last one's commit;
//   - `rerunIfInTransaction`, which a store calls when a write finds that
//     what the transaction read has changed (a row deleted meanwhile).
// A rerun waits a random, growing pause first (full jitter), so that the
// losers of one race do not meet again; after RERUN_ATTEMPTS the request gets
// 503. A deadlock (40P01) is run again the same way.
//
// Losing the server (refused, closed, timed out, shutting down) is a 503 for
// the request, never a 500, and so is waiting on a row lock longer than the
// busy deadline.
import { AsyncLocalStorage } from 'node:async_hooks'
import { SQL, type TransactionSQL } from 'bun'
import { DEFAULT_DATABASE_POOL_SIZE } from '../../config'
import { serviceUnavailable } from '../../errors'
import { migrate } from './migrate'

export interface PostgresOptions {
  /** Connections in the pool (default DEFAULT_DATABASE_POOL_SIZE: --database-pool-size). */
  poolSize?: number
  /** How long a statement may wait for a row lock, and a connection may take to open, before the request fails with 503 (ms). */
  busyDeadlineMs?: number
  /** Runs before the first connection is used (tests create their database here). */
  prepare?: () => Promise<void>
}

export type Param = string | number | boolean | null

/** SQLSTATE classes and codes that mean "the database cannot answer now": 503, not 500. */
const UNAVAILABLE_STATES = /^(08|53|57P|58)|^25006$/

/** How many times one transaction is run in all before its request gets 503 (or its integrity error, if that persists). */
const RERUN_ATTEMPTS = 10

/** Thrown by `rerunIfInTransaction`: what the transaction read has changed under it. */
class RerunTransaction extends Error {
  override name = 'RerunTransaction'
}

const stateOf = (error: unknown) => (error as { errno?: unknown } | null)?.errno

/** Lost a race with another transaction: 40001, a deadlock, or a store's `rerunIfInTransaction`. */
const isConflict = (error: unknown) => error instanceof RerunTransaction || stateOf(error) === '40001' || stateOf(error) === '40P01'

/**
 * True for the errors after which a transaction is run again from the start:
 * a lost race, and the integrity errors a race causes under READ COMMITTED (a
 * unique name taken, a referenced row deleted meanwhile; see the header).
 */
const isRerunnable = (error: unknown) => isConflict(error) || stateOf(error) === '23505' || stateOf(error) === '23503'

/** The pause before attempt `attempt + 1`: random up to 2^attempt ms, at most 100 ms. */
const backoff = (attempt: number) => Math.random() * Math.min(100, 2 ** attempt)

/**
 * The 503 for an error that says the database is out of reach or too busy;
 * anything else as it is. A server error is judged by its SQLSTATE; an error
 * of Bun's own (no SQLSTATE: refused, closed, timed out) is always a 503.
 */
export function unavailable(error: unknown): unknown {
  if (!(error instanceof Error)) return error
  if (error instanceof RerunTransaction) return serviceUnavailable('The database is busy (too many concurrent changes); try again shortly.')
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  if (typeof errno === 'string') {
    if (isConflict(error)) return serviceUnavailable('The database is busy (too many concurrent changes); try again shortly.')
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
  /** Transactions run again so far (lost races): for tests and benchmarks. */
  reruns = 0

  constructor(
    readonly url: string,
    options: PostgresOptions = {},
  ) {
    const busy = options.busyDeadlineMs ?? 5_000
    this.poolSize = options.poolSize ?? DEFAULT_DATABASE_POOL_SIZE
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
   * Runs `work` and turns connection failures into 503. Inside a transaction an
   * error that reruns it stays as it is, for `transaction` to see.
   */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (this.inTransaction && isRerunnable(error)) throw error
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
   * Runs `work` as one READ COMMITTED transaction, run again from the start
   * after a lost race (see the header); a transaction begun inside another
   * joins it. Rolled back when `work` throws.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return work()
    if (!this.isReady) await this.ready
    for (let attempt = 1; ; attempt++) {
      try {
        // Named, not left to the server's default_transaction_isolation.
        return (await this.pool.begin('ISOLATION LEVEL READ COMMITTED', (tx) => this.context.run(tx, work))) as T
      } catch (error) {
        if (!isRerunnable(error) || attempt >= RERUN_ATTEMPTS) throw unavailable(error)
        this.reruns++
        await pause(backoff(attempt))
      }
    }
  }

  /** Several statements as one unit: the caller's transaction, or one of their own. */
  atomic<T>(work: () => Promise<T>): Promise<T> {
    return this.inTransaction ? work() : this.transaction(work)
  }

  /**
   * Called by a store inside a transaction when a write finds that what the
   * transaction read has changed meanwhile (the row it checked is gone): the
   * transaction is rolled back and run again, and its checks see the change.
   * Outside a transaction, nothing (the caller's statement stands alone).
   */
  rerunIfInTransaction(reason: string): void {
    if (this.inTransaction) throw new RerunTransaction(reason)
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
