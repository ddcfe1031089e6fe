// Runs analytics queries off the server's thread and stops them at their
// deadline. Neither bun:sqlite nor node:sqlite can interrupt a statement (no
// sqlite3_interrupt, no progress handler), and a Worker does not help:
// terminate() only stops its JavaScript, and a runaway join kept the Worker's
// thread busy in SQLite long after (measured). So each query runs in a child
// process of the runtime itself (src/runtime/: under Bun the running
// executable acting as bun, which a compiled latch does too; under Deno `deno
// eval`), holding a read-only connection to the database file, and
// the deadline kills that process (SIGKILL), which always stops the work. It
// runs at a lower CPU priority (nice 10) than the server.
// A few children are kept warm and reused (spawning one takes ~10 ms); one
// query per child at a time, the rest wait in line, and waiting counts against
// the deadline. Memory is bounded the same way: bun's SQLite does not enforce
// PRAGMA hard_heap_limit (measured), so while a query runs the child's
// resident memory is sampled (Linux /proc) and the child killed past the cap.
import { driver } from '#sqlite-driver'
import { runtime } from '#runtime'
import { readFileSync } from 'node:fs'
import { setPriority } from 'node:os'
import type { ScriptProcess } from '../../runtime/runtime'
import { AnalyticsQueryError } from '../stores/analytics'

/**
 * The child: opens the file read-only and answers one { id, sql, params } at a
 * time with { id, rows } or { id, error }; a file it cannot open is reported
 * on every query (as an error of its code) rather than as a crash. The
 * driver's prelude defines `openReadOnly` and `errorCode` for this runtime.
 */
const CHILD_SOURCE = `${driver.childPrelude}
let db = null, failure = null;
try {
  db = openReadOnly(process.env.LATCH_ANALYTICS_DB);
  db.exec('PRAGMA query_only = 1');
  db.exec('PRAGMA cache_size = -65536');
} catch (e) {
  failure = e;
}
const describe = (e) => ({ code: errorCode(e), message: String((e && e.message) || e) });
process.on('message', (m) => {
  if (failure) return process.send({ id: m.id, error: describe(failure) });
  try {
    process.send({ id: m.id, rows: db.values(m.sql, m.params) });
  } catch (e) {
    process.send({ id: m.id, error: describe(e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`

/** SQLite error codes that mean the database cannot be read at all (503, not the query's fault). */
const UNAVAILABLE = /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|IOERR|PERM|AUTH)/

/** Resident memory of a process in bytes, or null where /proc is not available. */
function residentBytes(pid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096
  } catch {
    return null
  }
}

export interface QueryRunnerOptions {
  /** The database file (opened read-only by each child). */
  path: string
  /** Children running queries at once (default 2). */
  workers?: number
  /** Resident memory a child may reach while running a query, bytes (default 1 GiB, upstream's cap). */
  memoryLimitBytes?: number
  /** A child idle this long is stopped (default 60 s). */
  idleMs?: number
  /** How often a working child's memory is sampled (default 50 ms). */
  sampleMs?: number
}

type Params = readonly (string | number | null)[]

interface Job {
  sql: string
  params: Params
  resolve: (rows: unknown[][]) => void
  reject: (error: AnalyticsQueryError) => void
  timer: ReturnType<typeof setTimeout>
  child?: Child
}

interface Child {
  proc: ScriptProcess
  ready: boolean
  job: Job | null
  idle: ReturnType<typeof setTimeout> | null
  watch: ReturnType<typeof setInterval> | null
}

type ChildMessage = { ready?: boolean; rows?: unknown[][]; error?: { code: string; message: string } }

const timeout = () => new AnalyticsQueryError('timeout', 'The query did not finish within its time limit.')

export class QueryRunner {
  private readonly children = new Set<Child>()
  private readonly queue: Job[] = []
  private readonly workers: number
  private readonly memoryLimitBytes: number
  private readonly idleMs: number
  private nextId = 0
  private closed = false

  constructor(private readonly options: QueryRunnerOptions) {
    this.workers = Math.max(1, options.workers ?? 2)
    this.memoryLimitBytes = options.memoryLimitBytes ?? 1024 * 1024 * 1024
    this.idleMs = options.idleMs ?? 60_000
  }

  /** The rows of `sql`, or an AnalyticsQueryError; a query still running after `timeoutMs` is killed with its process. */
  run(sql: string, params: Params, timeoutMs: number): Promise<unknown[][]> {
    if (this.closed) return Promise.reject(new AnalyticsQueryError('unavailable', 'The analytics query runner is closed.'))
    return new Promise((resolve, reject) => {
      const job: Job = { sql, params, resolve, reject, timer: undefined as never }
      job.timer = setTimeout(() => this.expire(job), timeoutMs)
      this.queue.push(job)
      this.dispatch()
    })
  }

  /** Stops every child; pending and future queries fail as unavailable. */
  close(): void {
    this.closed = true
    for (const job of this.queue.splice(0)) this.fail(job, new AnalyticsQueryError('unavailable', 'The analytics query runner was closed.'))
    for (const child of [...this.children]) this.stop(child, new AnalyticsQueryError('unavailable', 'The analytics query runner was closed.'))
  }

  private dispatch(): void {
    while (this.queue.length) {
      const child = [...this.children].find((c) => c.ready && c.job === null)
      if (!child) {
        if (this.children.size < this.workers && !this.spawn()) {
          for (const job of this.queue.splice(0)) this.fail(job, new AnalyticsQueryError('unavailable', 'The analytics query process could not be started.'))
        }
        return
      }
      this.assign(child, this.queue.shift()!)
    }
  }

  private assign(child: Child, job: Job): void {
    if (child.idle) clearTimeout(child.idle)
    child.idle = null
    child.job = job
    job.child = child
    try {
      child.proc.send({ id: ++this.nextId, sql: job.sql, params: job.params })
    } catch {
      this.stop(child, new AnalyticsQueryError('unavailable', 'The analytics query process could not be reached.'))
      return
    }
    child.watch = setInterval(() => {
      const bytes = residentBytes(child.proc.pid)
      if (bytes !== null && bytes > this.memoryLimitBytes) this.stop(child, new AnalyticsQueryError('memory', 'The query needed more memory than allowed.'))
    }, this.options.sampleMs ?? 50)
    child.watch.unref?.()
  }

  /** Starts a child; false when it cannot be started at all. */
  private spawn(): boolean {
    const child: Child = { proc: undefined as never, ready: false, job: null, idle: null, watch: null }
    try {
      child.proc = runtime.spawnScript(CHILD_SOURCE, {
        env: { ...process.env, LATCH_ANALYTICS_DB: this.options.path },
        onMessage: (message) => this.receive(child, message as ChildMessage),
        onExit: () => this.exited(child),
      })
    } catch {
      return false
    }
    // Neither the child nor its channel keeps the server (or a test) alive.
    child.proc.unref()
    // Queries yield the CPU to the server's own work (verifications) when both want it.
    try {
      setPriority(child.proc.pid, 10)
    } catch {}
    this.children.add(child)
    return true
  }

  private receive(child: Child, message: ChildMessage): void {
    if (message.ready) {
      child.ready = true
      this.dispatch()
      return
    }
    const job = child.job
    if (!job) return
    this.release(child)
    clearTimeout(job.timer)
    if (message.error) {
      const { code, message: text } = message.error
      const reason = code === 'SQLITE_NOMEM' || code === 'SQLITE_TOOBIG' ? 'memory' : UNAVAILABLE.test(code) ? 'unavailable' : 'failed'
      job.reject(new AnalyticsQueryError(reason, text))
    } else {
      job.resolve(message.rows ?? [])
    }
    child.idle = setTimeout(() => this.stop(child, null), this.idleMs)
    child.idle.unref?.()
    this.dispatch()
  }

  /** The deadline passed: a waiting job leaves the line, a running one is killed with its child. */
  private expire(job: Job): void {
    const queued = this.queue.indexOf(job)
    if (queued >= 0) this.queue.splice(queued, 1)
    if (job.child?.job === job) this.stop(job.child, timeout())
    else this.fail(job, timeout())
  }

  /** The child's job is over: it stops being watched. */
  private release(child: Child): void {
    child.job = null
    if (child.watch) clearInterval(child.watch)
    child.watch = null
  }

  private stop(child: Child, error: AnalyticsQueryError | null): void {
    this.children.delete(child)
    if (child.idle) clearTimeout(child.idle)
    const job = child.job
    this.release(child)
    if (job) this.fail(job, error ?? timeout())
    child.proc.kill()
    if (!this.closed) this.dispatch()
  }

  /** The child ended on its own (it could not open the file, or crashed). */
  private exited(child: Child): void {
    if (!this.children.has(child)) return
    this.children.delete(child)
    if (child.idle) clearTimeout(child.idle)
    const job = child.job
    this.release(child)
    if (job) this.fail(job, new AnalyticsQueryError('unavailable', 'The analytics query process ended unexpectedly.'))
    else if (!child.ready) {
      // It never came up: the jobs waiting for it would wait for nothing.
      for (const waiting of this.queue.splice(0)) this.fail(waiting, new AnalyticsQueryError('unavailable', 'The analytics query process could not start.'))
    }
    if (!this.closed) this.dispatch()
  }

  private fail(job: Job, error: AnalyticsQueryError): void {
    clearTimeout(job.timer)
    job.reject(error)
  }
}
