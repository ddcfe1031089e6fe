// The analytics writer thread of a SQLite server (started by ./event-thread.ts;
// a separate entrypoint of the compiled binary, see scripts/build.ts). It opens
// its own connection to the database file and writes each batch it is handed
// through the same stores as the request thread would (raw rows, last-used
// times), in transactions of up to 1,024 events (128 while the request thread
// writes), so that the request thread neither runs those statements nor
// waits long for the write lock. Rollups follow about a second later,
// grouped over all the batches of that second (./owed-rollups.ts); rollups
// owed by an earlier run are rebuilt when the thread opens the file. It also
// checkpoints the write-ahead log, which the request thread's connection then
// never does inside one of its commits.
import { closeSync, fdatasyncSync, openSync } from 'node:fs'
import { driver } from '#sqlite-driver'
import type { RatelimitEvent, VerificationEvent } from '../stores/analytics'
import type { SqliteEventStore } from './analytics-events'
import { sqliteRatelimitEventStore, sqliteVerificationEventStore } from './analytics-events'
import { SqliteEngine } from './engine'
import type { EventThreadReply, EventThreadRequest } from './event-thread'
import { SqliteKeyStore } from './keys'
import { type EventKind, HeldRollups, OwedRollups } from './owed-rollups'

/** Events per slice: under a millisecond of writing, the longest a request-thread write waits for the lock. */
const EVENTS_PER_SLICE = 128
/**
 * Slices one transaction goes on to while the request thread does not write
 * (one of its writes that meets the lock ends the transaction after the slice
 * in hand). Each commit writes the last, partly filled pages of the raw table
 * and its index to the log again: over the benchmark's 2,500 keys, raw rows
 * cost 4.2-4.7 µs an event in transactions of 128 events and 2.7-3.2 in
 * transactions of 1,024 (scripts/bench-writer.ts, three runs each). While the
 * request thread writes (verifications spending credits write on every call),
 * a transaction is one slice, as before: a write that meets the lock tries
 * again after 1, 2, then 4 ms, and the longer transactions cost verifications
 * with credits a quarter of their rate in an interleaved run.
 */
const SLICES_PER_TRANSACTION = 8
/** How often the log is checkpointed (passively: readers and writers go on meanwhile). */
const CHECKPOINT_MS = 1_000
/** SQLite's default page size, which latch's databases use: a log frame holds one page. */
const PAGE_BYTES = 4096
/** How long rollups are held back after the first event they hold. */
const HOLD_MS = 1_000
/**
 * Rollup rows held for one grain that make the thread write them at once,
 * checked after every slice. A key verified again within the window adds to
 * its held row instead of costing another upsert: the bench's 2,500 keys per
 * scenario fit a second's window at 4,096 and did not at 2,048, which wrote
 * them every few hundred milliseconds (this thread's time per verification:
 * 22-23 µs at 2,048, 14 at 8,192; at 512, 34). A grain's rows are one
 * transaction (2,500 rows took 24-36 ms here, pauses included), the longest a
 * request's write waits for this thread. verifyKey with credits, which
 * writes on every call, did no worse (p99 at 8 connections 22-28 ms at
 * 2,048, 19-20 ms at 8,192).
 *
 * Over a million keys, nearly every event is a row of its own in each grain,
 * and each upsert dirties (and logs, and checkpoints) a page of its own: the
 * rollups cost 48-63 µs per event at 4,096 rows a write, 30-37 at 16,384,
 * 24-27 at 65,536 (a copy of the benchmark's store, four runs each). The
 * benchmark's million-key warm rounds still run at the writer's speed: p99
 * 43 and 722 ms in two runs at 16,384, 891 ms in one at 4,096 (answers
 * that wait for room; see EventBuffer.room). Under load spread that wide a
 * grain's transaction holds the lock longer (some 100-150 ms, against
 * 40-60); over fewer keys the second's window ends a write first, as before.
 */
const MAX_HELD = 16_384
/**
 * The thread's breather: it sleeps this long after each slice of raw rows
 * and after every BREATHE_EVERY_ROWS rollup rows. On a machine whose cores
 * are all busy it shares one with the request thread, and the scheduler
 * gives each a turn of a few milliseconds at a time. Sleeping between short
 * bursts hands the core back at once. A verification's p99 at 8 connections
 * over 10,000 keys (paired runs) went from 3.2-3.5 ms to 2.4-2.5 ms (the bare
 * server: 0.6-0.7), for about 1 µs more of this thread's time per event.
 */
const BREATHER_MS = 0.2
const BREATHE_EVERY_ROWS = 128
const breatherCell = new Int32Array(new SharedArrayBuffer(4))
/** Sleeps the thread (not just its event loop), so that the scheduler runs another. */
const breathe = () => void Atomics.wait(breatherCell, 0, 0, BREATHER_MS)

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<EventThreadRequest>) => void) | null
  postMessage(message: EventThreadReply): void
}

interface Kind<E> {
  store: SqliteEventStore<E>
  held: HeldRollups<E>
}

interface Writer {
  sql: SqliteEngine
  verifications: Kind<VerificationEvent>
  ratelimits: Kind<RatelimitEvent>
  owed: OwedRollups
  keys: SqliteKeyStore
  checkpoints: ReturnType<typeof setInterval>
  /** The write-ahead log, synced once per batch. */
  wal: number
}

let writer: Writer | null = null

function open(path: string, busyDeadlineMs: number, walLimitBytes: number, lockWaiters: Int32Array): Writer {
  const db = driver.openConnection(path)
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  // The rollup tables' recent pages; the request thread's connection keeps its own cache.
  db.exec('PRAGMA cache_size = -32768')
  // Without the path the engine does not sync the log after every transaction: a batch is synced once, at its end.
  // Before each transaction, writes the request thread is waiting with go first.
  const sql = new SqliteEngine(db, { busyDeadlineMs, lockWaiters: { counter: lockWaiters, role: 'defer' } })
  // After a reset the log file is cut back to this size instead of keeping its largest.
  db.exec(`PRAGMA journal_size_limit = ${walLimitBytes}`)
  const checkpoint = db.query<{ busy: number; log: number; checkpointed: number }, []>('PRAGMA wal_checkpoint(PASSIVE)')
  const restart = db.query('PRAGMA wal_checkpoint(RESTART)')
  const checkpoints = setInterval(() => {
    try {
      const done = checkpoint.get()
      // Readers on older snapshots can keep a passive checkpoint from ever reaching the end of the
      // log, and the log then only grows: past the limit, wait for them (briefly) and start it over.
      if (done && done.log * PAGE_BYTES > walLimitBytes && !sql.writersWaiting) restart.get()
    } catch {
      // Busy or failing now: the next tick tries again, and the request thread's commits are unaffected.
    }
  }, CHECKPOINT_MS)
  const owed = new OwedRollups(sql)
  const kind = <E>(store: SqliteEventStore<E>): Kind<E> => ({ store, held: new HeldRollups(sql, owed, store.rollups) })
  return {
    sql,
    verifications: kind(sqliteVerificationEventStore(sql)),
    ratelimits: kind(sqliteRatelimitEventStore(sql)),
    owed,
    keys: new SqliteKeyStore(sql),
    checkpoints,
    wal: openSync(`${path}-wal`, 'r'),
  }
}

/** Events of the batch being written that have committed: told to the request thread if the rest fails. */
let written = 0

/**
 * The raw rows of `events`, in transactions of one to SLICES_PER_TRANSACTION
 * slices, each noting the rollups it owes; `first` runs in the first
 * transaction (also without events).
 */
async function inTransactions<E>(w: Writer, kind: EventKind, events: E[], first?: () => Promise<void>): Promise<void> {
  const { store, held } = w[kind] as unknown as Kind<E>
  if (events.length === 0) {
    if (first) await w.sql.transaction(first)
    return
  }
  for (let from = 0; from < events.length; ) {
    const slicesAtMost = w.sql.othersWroteSinceAsked() ? 1 : SLICES_PER_TRANSACTION
    const [note, end] = await w.sql.transaction(async () => {
      let at = from
      let firstId = 0
      let lastId = 0
      for (let slices = 0; slices < slicesAtMost && at < events.length; slices++) {
        if (slices > 0) {
          if (w.sql.writersWaiting) break
          // The lock stays held through the sleep: a write of the request thread that meets it
          // meanwhile is seen when the sleep ends, and this transaction commits then.
          breathe()
          if (w.sql.writersWaiting) break
        }
        const slice = events.slice(at, at + EVENTS_PER_SLICE)
        const [sliceFirst, sliceLast] = (await store.insertRaw(slice))!
        if (slices === 0) firstId = sliceFirst
        lastId = sliceLast
        at += slice.length
      }
      if (from === 0 && first) await first()
      return [await w.owed.note(kind, firstId, lastId), at] as const
    })
    const done = events.slice(from, end)
    written += done.length
    from = end
    breathe()
    held.add(done, note)
    if (held.size >= MAX_HELD) await writeRollups(w)
  }
  holdRollups()
}

let rollupTimer: ReturnType<typeof setTimeout> | null = null

/** Writes the held rollups within HOLD_MS, in turn with the batches. */
function holdRollups(): void {
  rollupTimer ??= setTimeout(() => {
    rollupTimer = null
    enqueue(async () => {
      const w = writer
      if (!w) return
      await writeRollups(w).catch((error) => console.error(`latch: writing analytics rollups failed, kept for the next try: ${error}`))
      // The next try comes from this timer too: an idle server sends no batch that would set it.
      if (w.verifications.held.size > 0 || w.ratelimits.held.size > 0) holdRollups()
    })
  }, HOLD_MS)
}

async function writeRollups(w: Writer): Promise<void> {
  // Inside a grain's transaction, a write of the request thread waiting for the lock goes first.
  const pause = () => {
    if (!w.sql.writersWaiting) breathe()
  }
  await w.verifications.held.write(pause, BREATHE_EVERY_ROWS)
  await w.ratelimits.held.write(pause, BREATHE_EVERY_ROWS)
}

async function handle(request: EventThreadRequest): Promise<void> {
  if (request.kind === 'open') {
    writer = open(request.path, request.busyDeadlineMs, request.walLimitBytes, request.lockWaiters)
    await writer.owed.rebuild({ verifications: writer.verifications.store.rollups, ratelimits: writer.ratelimits.store.rollups })
    return
  }
  const w = writer
  if (!w) throw new Error('the event thread has no database open')
  if (request.kind === 'verifications') {
    const lastUsed = JSON.parse(request.lastUsed) as [string, number][]
    await inTransactions(w, 'verifications', JSON.parse(request.events) as VerificationEvent[], () => w.keys.touchLastUsed(lastUsed))
  } else if (request.kind === 'ratelimits') {
    await inTransactions(w, 'ratelimits', JSON.parse(request.events) as RatelimitEvent[])
  } else if (request.kind === 'rollups') {
    // Not synced: rollups the machine loses with the log's unsynced tail are still owed, and rebuilt
    // at the next start (the timer's writes are not synced either). services.flush() asks for this
    // (a clean stop, SIGUSR1 or SIGUSR2, tests), and a flush with nothing to write need not sync the log.
    await writeRollups(w)
    return
  } else {
    await writeRollups(w)
    if (rollupTimer) clearTimeout(rollupTimer)
    clearInterval(w.checkpoints)
    writer = null
    closeSync(w.wal)
    w.sql.db.close()
    return
  }
  // As durable as the request thread's own commits (a blocking call is fine on this thread).
  fdatasyncSync(w.wal)
}

// One request at a time, in the order sent: `written` belongs to the batch in hand.
let queue: Promise<void> = Promise.resolve()

function enqueue(work: () => Promise<void>): void {
  queue = queue.then(work)
}

scope.onmessage = ({ data }) => {
  enqueue(async () => {
    written = 0
    try {
      await handle(data)
      scope.postMessage({ id: data.id })
    } catch (error) {
      scope.postMessage({ id: data.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), written })
    }
  })
}
