// The analytics writer thread of a SQLite server (started by ./event-thread.ts;
// a separate entrypoint of the compiled binary, see scripts/build.ts). It opens
// its own connection to the database file and writes each batch it is handed
// through the same stores as the request thread would (raw rows, last-used
// times), in transactions of a few hundred events, so that the request thread
// neither runs those statements nor waits long for the write lock. Rollups
// follow about a second later, grouped over all the batches of that second
// (./owed-rollups.ts); rollups owed by an earlier run are rebuilt when the
// thread opens the file. It also checkpoints the write-ahead log, which the
// request thread's connection then never does inside one of its commits.
import { closeSync, fdatasyncSync, openSync } from 'node:fs'
import { driver } from '#sqlite-driver'
import type { RatelimitEvent, VerificationEvent } from '../stores/analytics'
import type { SqliteEventStore } from './analytics-events'
import { sqliteRatelimitEventStore, sqliteVerificationEventStore } from './analytics-events'
import { SqliteEngine } from './engine'
import type { EventThreadReply, EventThreadRequest } from './event-thread'
import { SqliteKeyStore } from './keys'
import { type EventKind, HeldRollups, OwedRollups } from './owed-rollups'

/** Events per transaction: about a millisecond of writing, the longest a request-thread write waits for the lock. */
const EVENTS_PER_TRANSACTION = 256
/** How often the log is checkpointed (passively: readers and writers go on meanwhile). */
const CHECKPOINT_MS = 1_000
/** SQLite's default page size, which latch's databases use: a log frame holds one page. */
const PAGE_BYTES = 4096
/** How long rollups are held back after the first event they hold. */
const HOLD_MS = 1_000
/**
 * Rollup rows held for one grain that make the thread write them at once,
 * checked after every slice: a grain's rows are one transaction (2,048 rows,
 * some 20 ms here), the longest a request's write waits for this thread. At
 * 512, writing more often cost this thread a third more per event under load
 * over 10,000 keys, and requests' writes gained nothing measurable.
 */
const MAX_HELD = 2_048

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
 * The raw rows of `events`, a transaction per slice, each noting the rollups
 * it owes; `first` runs in the first slice's transaction (also without events).
 */
async function inTransactions<E>(w: Writer, kind: EventKind, events: E[], first?: () => Promise<void>): Promise<void> {
  const { store, held } = w[kind] as unknown as Kind<E>
  if (events.length === 0) {
    if (first) await w.sql.transaction(first)
    return
  }
  for (let from = 0; from < events.length; from += EVENTS_PER_TRANSACTION) {
    const slice = events.slice(from, from + EVENTS_PER_TRANSACTION)
    const note = await w.sql.transaction(async () => {
      const [firstId, lastId] = (await store.insertRaw(slice))!
      if (from === 0 && first) await first()
      return w.owed.note(kind, firstId, lastId)
    })
    written += slice.length
    held.add(slice, note)
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
      if (writer) await writeRollups(writer).catch((error) => console.error(`latch: writing analytics rollups failed, kept for the next try: ${error}`))
    })
  }, HOLD_MS)
}

async function writeRollups(w: Writer): Promise<void> {
  await w.verifications.held.write()
  await w.ratelimits.held.write()
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
    await inTransactions(w, 'verifications', JSON.parse(request.events) as VerificationEvent[], () => w.keys.touchLastUsed(request.lastUsed))
  } else if (request.kind === 'ratelimits') {
    await inTransactions(w, 'ratelimits', JSON.parse(request.events) as RatelimitEvent[])
  } else if (request.kind === 'rollups') {
    // Not synced: rollups the machine loses with the log's unsynced tail are still owed, and rebuilt
    // at the next start (the timer's writes are not synced either). services.flush() asks for this
    // every second, idle or not, and an idle server need not sync its log once a second.
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
