// How a connection waits for SQLite's write lock while another connection
// (the CLI, or the server's analytics writer thread) holds it: attempts again
// after a pause that doubles, without blocking the thread, until a deadline
// (then 503), and reports storage failures as 503 too: nothing was written.
//
// On a server the two threads also take turns. The request thread's writes
// (credits a verification waits for, a createKey) count themselves in a
// counter shared with the writer thread while they wait ('announce'); the
// writer thread waits for that counter to reach zero before each transaction
// it begins ('defer'), so a request's write waits for the transaction in
// progress, not for the writer's next one as well.
import { serviceUnavailable } from '../../errors'

/**
 * Two Int32s of a SharedArrayBuffer (see `lockWaiterCells`): the request
 * thread's writes waiting for the lock now, and a count of its writes (each
 * transaction it begins, each statement outside one that changed rows), which
 * the writer thread reads to tell whether it writes at all.
 */
export interface LockWaiters {
  counter: Int32Array
  role: 'announce' | 'defer'
}

const WAITING = 0
const WRITES = 1

/** The cells a pair of connections share as LockWaiters.counter. */
export function lockWaiterCells(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8))
}

/** Longest a deferring connection lets announced writes go first, before each of its transactions. */
const DEFER_MAX_MS = 50

/** SQLite error codes that mean "this write cannot happen now", reported as 503 rather than 500. */
const UNAVAILABLE = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * SQLITE_BUSY and its extended codes, which Bun reports as such (node:sqlite gives only the
 * message, read back as SQLITE_BUSY). SQLITE_BUSY_SNAPSHOT is a transaction begun with a read (a
 * store's `db.transaction` outside an engine transaction is BEGIN DEFERRED: the audit log's
 * retention, the RBAC batches) whose first write came after the other connection had committed;
 * it rolled back, and tried again it reads the new snapshot. Not retried, it escaped as "database
 * is locked": a 500, or a server that failed to start while its writer thread committed.
 */
const isBusy = (code: unknown) => code === 'SQLITE_BUSY' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'))

export class LockWait {
  constructor(
    private readonly deadlineMs: number,
    private readonly waiters?: LockWaiters,
  ) {}

  /** Runs `work` now, and again after a pause while another connection holds the lock (see the header). */
  async attempt<T>(work: () => T, beforeEach?: () => Promise<void> | undefined): Promise<T> {
    const deadline = performance.now() + this.deadlineMs
    // Announced, the writer thread yields after its transaction in progress: retry often, briefly.
    const announce = this.waiters?.role === 'announce' ? this.waiters.counter : null
    const maxPause = announce ? 4 : 200
    let announced = false
    try {
      for (let pause = 1; ; pause = Math.min(pause * 2, maxPause)) {
        const ready = beforeEach?.()
        if (ready) await ready
        try {
          return work()
        } catch (error) {
          const code = (error as { code?: unknown }).code
          if (isBusy(code) && performance.now() + pause < deadline) {
            if (announce && !announced) {
              Atomics.add(announce, WAITING, 1)
              announced = true
            }
            await sleep(pause)
            continue
          }
          if (isBusy(code)) throw serviceUnavailable('The database is busy (another process holds its write lock); try again shortly.')
          if (typeof code === 'string' && UNAVAILABLE.test(code)) throw serviceUnavailable(`The database cannot be written (${code}); try again shortly.`)
          throw error
        }
      }
    } finally {
      if (announce && announced) {
        Atomics.sub(announce, WAITING, 1)
        Atomics.notify(announce, WAITING)
      }
    }
  }

  /** A deferring connection's wait, before a transaction, for the writes the other thread announced (blocks this thread). */
  defer(): void {
    const waiters = this.waiters
    if (waiters?.role !== 'defer') return
    const until = performance.now() + DEFER_MAX_MS
    for (let n = Atomics.load(waiters.counter, WAITING); n > 0 && performance.now() < until; n = Atomics.load(waiters.counter, WAITING)) {
      Atomics.wait(waiters.counter, WAITING, n, 2)
    }
  }

  /** Whether the other thread announced writes waiting for the lock. */
  get writersWaiting(): boolean {
    return this.waiters !== undefined && Atomics.load(this.waiters.counter, WAITING) > 0
  }

  /** An announcing connection began a transaction, or wrote outside one (reads are not counted). */
  noteWrite(): void {
    if (this.waiters?.role === 'announce') Atomics.add(this.waiters.counter, WRITES, 1)
  }

  private writesSeen = 0

  /** Whether the other thread wrote (or began a transaction) since this was last asked. */
  othersWroteSinceAsked(): boolean {
    if (this.waiters === undefined) return false
    const writes = Atomics.load(this.waiters.counter, WRITES)
    const wrote = writes !== this.writesSeen
    this.writesSeen = writes
    return wrote
  }
}
