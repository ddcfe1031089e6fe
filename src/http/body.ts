// The one reader of RPC request bodies (the `permission` macro's parse step).
// Hostile bodies must cost nothing, so the bytes received are held to the
// limit (Bun stops a body at its Content-Length, checked first; a chunked body
// is read chunk by chunk and counted: 413 as soon as it passes the limit),
// under a deadline (408 for a client that trickles bytes or stops sending),
// and the text is checked before JSON.parse and validation ever see it:
// nesting deeper than the limit is refused by one linear scan (TypeBox,
// Elysia's messages and our own walks recurse, and a 20,000-level body used
// to stall every client for seconds), and so are
// `__proto__` keys (a spread or Object.assign of such a value changes its
// prototype), lone UTF-16 surrogates (SQLite would store them as U+FFFD) and
// NUL characters (PostgreSQL cannot store them).
// Every RPC body is JSON, whatever Content-Type the client sent.
import { badRequest, bodyUnreadable, payloadTooLarge, requestTimeout } from '../errors'

export interface BodyLimits {
  /** Bytes a body may have; one more is a 413. */
  maxBodyBytes: number
  /** The whole body must arrive within this many milliseconds of the start of reading (408). */
  bodyTimeoutMs: number
  /** Arrays and objects nested deeper than this are a 400, before parsing. */
  maxJsonDepth: number
}

const decoder = new TextDecoder()

/**
 * The body's bytes as text; 413 past `maxBodyBytes`, 408 past the deadline.
 * With a Content-Length, Bun reads exactly that many bytes, checked against
 * the limit here, so `text()` is enough and keeps the common small body
 * nearly as cheap as `request.json()` (a stream reader costs several
 * microseconds more). Without one (chunked), the stream is read and counted.
 */
export function readBodyText(request: Request, limits: Pick<BodyLimits, 'maxBodyBytes' | 'bodyTimeoutMs'>): Promise<string> {
  // Bun refuses a request with both Content-Length and Transfer-Encoding (400) before latch sees it.
  const declared = declaredLength(request)
  if (declared === null) return readCounted(request, limits)
  if (declared > limits.maxBodyBytes) return Promise.reject(tooLarge(limits))
  return withDeadline(request.text(), limits).then((text) => {
    // An in-process Request (app.handle) may carry more than it declares; a socket cannot.
    if (text.length * 3 > limits.maxBodyBytes && Buffer.byteLength(text) > limits.maxBodyBytes) throw tooLarge(limits)
    return text
  })
}

/**
 * The body length the request declares, when its Content-Length is one plain
 * number; null otherwise. Bun also lets through a Content-Length repeated with
 * the same value ("N, N" here): not a number, so such a body is read and
 * counted as a chunked one is, never taken at its word.
 */
function declaredLength(request: Request): number | null {
  return lengthOf(request.headers.get('content-length'))
}

/** A Content-Length header's value as a length, when it is one plain number. */
function lengthOf(header: string | null): number | null {
  return header !== null && DIGITS.test(header) ? Number(header) : null
}

const DIGITS = /^\d{1,15}$/

/**
 * Body reads in progress, each with its deadline and the way to refuse it.
 * One coarse watchdog (a tenth of the timeout, at most 250 ms apart) serves
 * them all: a timer per request cost more than reading a small body.
 */
const reads = new Map<Promise<string>, { deadline: number; refuse: () => void }>()
let watchdog: ReturnType<typeof setInterval> | null = null

function watch(): void {
  const now = performance.now()
  for (const [reading, read] of reads) {
    if (read.deadline <= now) {
      reads.delete(reading)
      read.refuse()
    }
  }
  if (reads.size === 0 && watchdog) {
    clearInterval(watchdog)
    watchdog = null
  }
}

function withDeadline(reading: Promise<string>, limits: Pick<BodyLimits, 'bodyTimeoutMs'>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    reads.set(reading, { deadline: performance.now() + limits.bodyTimeoutMs, refuse: () => reject(timedOut(limits)) })
    watchdog ??= setInterval(watch, Math.min(250, Math.max(1, limits.bodyTimeoutMs / 10)))
    reading.then(
      (text) => {
        reads.delete(reading)
        resolve(text)
      },
      (error) => {
        reads.delete(reading)
        reject(error)
      },
    )
  })
}

const tooLarge = (limits: Pick<BodyLimits, 'maxBodyBytes'>) => payloadTooLarge(`The request body is larger than ${limits.maxBodyBytes} bytes.`)
const timedOut = (limits: Pick<BodyLimits, 'bodyTimeoutMs'>) => requestTimeout(`The request body did not arrive within ${limits.bodyTimeoutMs} ms.`)

/** Reads the body stream chunk by chunk, counting bytes: no trust in what the client declared. */
async function readCounted(request: Request, limits: Pick<BodyLimits, 'maxBodyBytes' | 'bodyTimeoutMs'>): Promise<string> {
  const stream = request.body
  if (!stream) return ''
  const reader = stream.getReader()
  let expired = false
  // Cancelling the reader settles a pending read() with done, so no race per chunk is needed.
  const timer = setTimeout(() => {
    expired = true
    reader.cancel().catch(() => {})
  }, limits.bodyTimeoutMs)
  const chunks: Uint8Array[] = []
  let received = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      received += value.byteLength
      if (received > limits.maxBodyBytes) {
        reader.cancel().catch(() => {})
        throw tooLarge(limits)
      }
      chunks.push(value)
    }
  } finally {
    clearTimeout(timer)
  }
  if (expired) throw timedOut(limits)
  if (chunks.length === 1) return decoder.decode(chunks[0])
  return decoder.decode(Buffer.concat(chunks, received))
}

const QUOTE = 34
const BACKSLASH = 92
const OPEN_ARRAY = 91
const CLOSE_ARRAY = 93
const OPEN_OBJECT = 123
const CLOSE_OBJECT = 125

/**
 * Whether `text` opens more than `maxDepth` arrays/objects at once. One pass,
 * no recursion; strings are skipped with indexOf so brackets inside them do not
 * count. On text that is not JSON the answer is approximate: JSON.parse
 * refuses it next anyway.
 */
export function nestedDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0
  const length = text.length
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      let end = text.indexOf('"', i + 1)
      // A quote preceded by an odd number of backslashes is part of the string.
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1)
      if (end === -1) return false
      i = end
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return true
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--
    }
  }
  return false
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0
  for (let j = quote - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++
  return backslashes % 2 === 1
}

type Forbidden = 'proto' | 'surrogate' | 'nul'

/** What is wrong with a string of a body (a key or a value), if anything. */
function badText(text: string): Forbidden | null {
  if (!text.isWellFormed()) return 'surrogate'
  // PostgreSQL cannot store U+0000 in text or jsonb (a 500 that any client could cause), and Deno's
  // node:sqlite cuts a string at it. Refused in every field, so that every engine answers alike.
  return text.includes('\u0000') ? 'nul' : null
}

/**
 * The first `__proto__` key, or key or string holding a lone surrogate or a
 * NUL character, in a parsed body, with its location (`body.meta.__proto__`)
 * and what is wrong, or null. Iterative.
 */
export function forbiddenAt(value: unknown, path: string): { location: string; kind: Forbidden } | null {
  const stack: [unknown, string][] = [[value, path]]
  while (stack.length > 0) {
    const [v, p] = stack.pop()!
    if (typeof v === 'string') {
      const kind = badText(v)
      if (kind) return { location: p, kind }
    } else if (v !== null && typeof v === 'object') {
      const array = Array.isArray(v)
      for (const k of Object.keys(v)) {
        const at = array ? `${p}[${k}]` : `${p}.${k}`
        if (k === '__proto__') return { location: at, kind: 'proto' }
        const kind = badText(k)
        if (kind) return { location: at, kind }
        stack.push([(v as Record<string, unknown>)[k], at])
      }
    }
  }
  return null
}

const FORBIDDEN: Record<Forbidden, (location: string) => [detail: string, message: string]> = {
  proto: (at) => [`${at} is not allowed: '__proto__' cannot be used as a key.`, "'__proto__' is not allowed as a key"],
  surrogate: (at) => [`${at} contains a lone UTF-16 surrogate; send well-formed Unicode text.`, 'not well-formed Unicode text'],
  nul: (at) => [`${at} contains a NUL character (U+0000), which latch does not store.`, 'NUL characters (U+0000) are not allowed'],
}

/**
 * Items a top-level array may hold: ratelimit.multiLimit's schema takes 100, and says so itself for
 * 101 to this many; past it the array is refused before any route sees it.
 */
export const MAX_TOP_LEVEL_ITEMS = 1_000

/**
 * Checks and parses a body's text: depth (400), JSON syntax (the existing
 * "not valid JSON" 400), a top-level value that no RPC takes (400), then
 * `__proto__` keys, lone surrogates and NUL characters (400 naming the
 * location). The walk for the last three runs only when the text could hold
 * one: `__proto__` spelt out, or a `\u` escape (the only way JSON text decoded
 * from UTF-8 can carry a lone surrogate, a NUL, which JSON allows only
 * escaped, or a disguised `__proto__`).
 */
export function parseJsonText(text: string, maxJsonDepth: number): unknown {
  if (nestedDeeperThan(text, maxJsonDepth)) {
    throw badRequest(`The request body is nested deeper than ${maxJsonDepth} levels.`, [
      { location: 'body', message: `is nested deeper than ${maxJsonDepth} levels` },
    ])
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw bodyUnreadable('The request body is missing or is not valid JSON.')
  }
  // Elysia copies a body onto the defaults of a route that has some (Object.assign), and a string
  // or an array is copied one element at a time: 600,000 characters sent to a list route held the
  // request thread for 1.4 s. No RPC takes anything but an object, or an array of at most 100.
  if (typeof body !== 'object' || body === null) {
    throw badRequest('The request body must be a JSON object or array.', [{ location: 'body', message: 'must be a JSON object or array' }])
  }
  if (Array.isArray(body) && body.length > MAX_TOP_LEVEL_ITEMS) {
    throw badRequest(`The request body is an array of ${body.length} items; no RPC takes more than ${MAX_TOP_LEVEL_ITEMS}.`, [
      { location: 'body', message: `more than ${MAX_TOP_LEVEL_ITEMS} items` },
    ])
  }
  if (text.includes('__proto__') || text.includes('\\u')) {
    const found = forbiddenAt(body, 'body')
    if (found) {
      const [detail, message] = FORBIDDEN[found.kind](found.location)
      throw badRequest(detail, [{ location: found.location, message }])
    }
  }
  return body
}

/** Reads, checks and parses an RPC body (see the file header). */
export function readJsonBody(request: Request, limits: BodyLimits): Promise<unknown> {
  return readBodyText(request, limits).then((text) => parseJsonText(text, limits.maxJsonDepth))
}

/**
 * A body the client declared this small may be left unread by an error answer:
 * the runtime skips its bytes on the connection as they arrive, and the
 * connection serves the client's next request (Bun; Deno in the tests here,
 * and where Deno does not keep such a connection it closes it itself). Reading it
 * first cost a refusal about a quarter of its time, and gave the client
 * nothing: a declared body that never comes holds the connection no longer
 * than an idle keep-alive connection is held (idleTimeoutSeconds).
 */
const SKIPPED_BODY_BYTES = 16 * 1024

/**
 * Whether an answer goes out with a body unread that the runtime would read
 * to its end to keep the connection (larger than SKIPPED_BODY_BYTES, chunked,
 * or of no declared length): then the connection is closed instead.
 */
export function bodyLeftUnread(request: Request): boolean {
  if (request.bodyUsed) return false
  const header = request.headers.get('content-length')
  // No declared length: chunked, or any body at all (asked last: reading `request.body` makes Bun build a stream, a few µs).
  if (header === null) return request.headers.has('transfer-encoding') || request.body !== null
  if (header === '0') return false
  const declared = lengthOf(header)
  return declared === null || request.headers.has('transfer-encoding') || declared > SKIPPED_BODY_BYTES
}
