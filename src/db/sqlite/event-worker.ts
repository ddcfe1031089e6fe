// The analytics writer thread of a SQLite server (started by ./event-thread.ts;
// a separate entrypoint of the compiled binary, see scripts/build.ts). It opens
// its own connection to the database file and writes each batch it is handed
// through the same stores as the request thread would (raw rows, rollups,
// last-used times), in transactions of a few hundred events, so that the
// request thread neither runs those statements nor waits long for the write
// lock. It also checkpoints the write-ahead log, which the request thread's
// connection then never does inside one of its commits.
import { closeSync, fdatasyncSync, openSync } from 'node:fs'
import { driver } from '#sqlite-driver'
import type { RatelimitEvent, VerificationEvent } from '../stores/analytics'
import { sqliteRatelimitEventStore, sqliteVerificationEventStore } from './analytics-events'
import { SqliteEngine } from './engine'
import type { EventThreadReply, EventThreadRequest } from './event-thread'
import { SqliteKeyStore } from './keys'

/** Events per transaction: about a millisecond of writing, the longest a request-thread write waits for the lock. */
const EVENTS_PER_TRANSACTION = 256
/** How often the log is checkpointed (passively: readers and writers go on meanwhile). */
const CHECKPOINT_MS = 1_000
/** SQLite's default page size, which latch's databases use: a log frame holds one page. */
const PAGE_BYTES = 4096

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<EventThreadRequest>) => void) | null
  postMessage(message: EventThreadReply): void
}

interface Writer {
  sql: SqliteEngine
  verifications: ReturnType<typeof sqliteVerificationEventStore>
  ratelimits: ReturnType<typeof sqliteRatelimitEventStore>
  keys: SqliteKeyStore
  checkpoints: ReturnType<typeof setInterval>
  /** The write-ahead log, synced once per batch. */
  wal: number
}

let writer: Writer | null = null

function open(path: string, busyDeadlineMs: number, walLimitBytes: number): Writer {
  const db = driver.openConnection(path)
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  // The rollup tables' recent pages; the request thread's connection keeps its own cache.
  db.exec('PRAGMA cache_size = -32768')
  // Without the path the engine does not sync the log after every transaction: a batch is synced once, at its end.
  const sql = new SqliteEngine(db, { busyDeadlineMs })
  // After a reset the log file is cut back to this size instead of keeping its largest.
  db.exec(`PRAGMA journal_size_limit = ${walLimitBytes}`)
  const checkpoint = db.query<{ busy: number; log: number; checkpointed: number }, []>('PRAGMA wal_checkpoint(PASSIVE)')
  const restart = db.query('PRAGMA wal_checkpoint(RESTART)')
  const checkpoints = setInterval(() => {
    try {
      const done = checkpoint.get()
      // Readers on older snapshots can keep a passive checkpoint from ever reaching the end of the
      // log, and the log then only grows: past the limit, wait for them (briefly) and start it over.
      if (done && done.log * PAGE_BYTES > walLimitBytes) restart.get()
    } catch {
      // Busy or failing now: the next tick tries again, and the request thread's commits are unaffected.
    }
  }, CHECKPOINT_MS)
  return {
    sql,
    verifications: sqliteVerificationEventStore(sql),
    ratelimits: sqliteRatelimitEventStore(sql),
    keys: new SqliteKeyStore(sql),
    checkpoints,
    wal: openSync(`${path}-wal`, 'r'),
  }
}

/** Events of the batch being written that have committed: told to the request thread if the rest fails. */
let written = 0

async function inTransactions<E>(w: Writer, events: E[], write: (slice: E[], first: boolean) => Promise<void>): Promise<void> {
  if (events.length === 0) return w.sql.transaction(() => write([], true))
  for (let from = 0; from < events.length; from += EVENTS_PER_TRANSACTION) {
    const slice = events.slice(from, from + EVENTS_PER_TRANSACTION)
    await w.sql.transaction(() => write(slice, from === 0))
    written += slice.length
  }
}

async function handle(request: EventThreadRequest): Promise<void> {
  if (request.kind === 'open') {
    writer = open(request.path, request.busyDeadlineMs, request.walLimitBytes)
    return
  }
  const w = writer
  if (!w) throw new Error('the event thread has no database open')
  if (request.kind === 'verifications') {
    await inTransactions(w, JSON.parse(request.events) as VerificationEvent[], async (slice, first) => {
      await w.verifications.insertMany(slice)
      if (first) await w.keys.touchLastUsed(request.lastUsed)
    })
  } else if (request.kind === 'ratelimits') {
    await inTransactions(w, JSON.parse(request.events) as RatelimitEvent[], (slice) => w.ratelimits.insertMany(slice))
  } else {
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

scope.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    written = 0
    try {
      await handle(data)
      scope.postMessage({ id: data.id })
    } catch (error) {
      scope.postMessage({ id: data.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), written })
    }
  })
}
