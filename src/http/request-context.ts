// Per-request bookkeeping shared by every module: the request id (returned in
// `meta.requestId` and the X-Request-Id header), timing, the authenticated
// root key id, and the one structured log line written when a response is sent.
import { Elysia } from 'elysia'
import { newId } from '../ids'
import type { Page } from '../db/pagination'

interface RequestState {
  id: string
  /** The request's path, read while the request is being handled (Bun empties `request.url` once the response is sent). */
  path: string
  startedAt: number
  rootKeyId?: string
  status?: number
}

// Kept on the Request itself: a WeakMap entry per request cost more (weak
// references are extra work for every garbage collection).
const STATE = Symbol('latch.requestState')
type WithState = Request & { [STATE]?: RequestState }

export function requestState(request: Request): RequestState {
  return (request as WithState)[STATE] ?? begin(request, pathOf(request.url))
}

/**
 * The state of a request answered by a handler registered for one path, which
 * is therefore its path: reading `request.url` costs about a microsecond.
 */
export function requestStateAt(request: Request, path: string): RequestState {
  return (request as WithState)[STATE] ?? begin(request, path)
}

function begin(request: Request, path: string): RequestState {
  const state: RequestState = { id: newId('req'), path, startedAt: performance.now() }
  ;(request as WithState)[STATE] = state
  return state
}

export const requestIdOf = (request: Request): string => requestState(request).id

/** The path of an absolute URL, without building a URL object ('' for none). */
function pathOf(url: string): string {
  const scheme = url.indexOf('//')
  if (scheme === -1) return ''
  const start = url.indexOf('/', scheme + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.slice(start) : url.slice(start, query)
}

export interface RequestLogLine {
  time: string
  level: 'info' | 'error'
  requestId: string
  method: string
  path: string
  status: number
  durationMs: number
  rootKeyId?: string
}

export type Logger = (line: RequestLogLine) => void

/**
 * How late a log line may be written: lines are gathered and written together,
 * once LOG_BATCH_LINES are pending or LOG_BATCH_MS after the first. A write
 * to stdout cost some 3-4 µs of the request thread whatever its size, which at
 * a few requests per turn of the event loop was most of a line's cost.
 */
const LOG_BATCH_MS = 10
const LOG_BATCH_LINES = 256

let pendingLines: string[] = []
let batchTimer: ReturnType<typeof setTimeout> | null = null

function writePendingLines(): void {
  if (batchTimer) clearTimeout(batchTimer)
  batchTimer = null
  const text = pendingLines.join('')
  pendingLines = []
  process.stdout.write(text)
}

/**
 * One JSON line per request on stdout, written in batches (at most
 * LOG_BATCH_MS late); `flushLog` writes what is pending.
 */
export const stdoutLogger: Logger = (line) => {
  pendingLines.push(`${JSON.stringify(line)}\n`)
  if (pendingLines.length >= LOG_BATCH_LINES) writePendingLines()
  else if (!batchTimer) {
    batchTimer = setTimeout(writePendingLines, LOG_BATCH_MS)
    // Nothing but a pending line: no reason to keep a process alive.
    ;(batchTimer as { unref?: () => void }).unref?.()
  }
}

/** Writes log lines not yet written (at shutdown). */
export function flushLog(): void {
  if (pendingLines.length > 0) writePendingLines()
}

/**
 * The request log. The X-Request-Id header is set where a response is made
 * (the auth plugin's derive, liveness, the error envelope) rather than in an
 * onRequest hook, which Elysia would run before routing on every request.
 */
export function requestContext(log: Logger | null) {
  const plugin = new Elysia({ name: 'request-context' })
  if (!log) return plugin
  return plugin.onAfterResponse({ as: 'global' }, ({ request, set, path }) => {
    const state = requestState(request)
    // A route that never read its state (a console or docs file) has it made only now, from the
    // emptied URL: Elysia's own path, taken when the request arrived, names it then.
    if (state.path === '') state.path = path
    logRequest(log, request, state.status ?? (typeof set.status === 'number' ? set.status : 200))
  })
}

let isoMs = -1
let iso = ''

/** The time as ISO 8601, made once per millisecond: a busy server logs many requests in each. */
function isoNow(): string {
  const ms = Date.now()
  if (ms !== isoMs) {
    isoMs = ms
    iso = new Date(ms).toISOString()
  }
  return iso
}

/** Writes a request's log line (Elysia's hook above; a route answered outside Elysia calls it itself). */
export function logRequest(log: Logger, request: Request, status: number): void {
  const state = requestState(request)
  const line: RequestLogLine = {
    time: isoNow(),
    level: status >= 500 ? 'error' : 'info',
    requestId: state.id,
    method: request.method,
    path: state.path,
    status,
    durationMs: Math.round((performance.now() - state.startedAt) * 100) / 100,
  }
  if (state.rootKeyId) line.rootKeyId = state.rootKeyId
  log(line)
}

/** The success envelope: `{ meta: { requestId }, data }`. */
export function ok<T>(request: Request, data: T): { meta: { requestId: string }; data: T } {
  return { meta: { requestId: requestIdOf(request) }, data }
}

/**
 * The list envelope: `pagination.hasMore` always, `cursor` only when there is
 * a next page (the official SDK keeps fetching while a cursor is present).
 */
export function okPage<T>(request: Request, page: Page<T>) {
  return {
    ...ok(request, page.items),
    pagination: { ...(page.cursor !== undefined ? { cursor: page.cursor } : {}), hasMore: page.cursor !== undefined },
  }
}
