// HTTP/1.1 over a bare TCP socket, for what fetch cannot send: headers with a
// body that trickles in (or never comes), hand-made chunked bodies, broken
// Content-Length or Authorization headers. Used by the body-reader tests and
// by scripts/fuzz-http.ts against the binary.
import { connect } from 'node:net'

export interface RawResponse {
  /** 0 when no complete response arrived. */
  status: number
  headers: Record<string, string>
  body: string
  /** Milliseconds from the first byte sent to the complete response, or -1. */
  respondedMs: number
  /** Milliseconds until the socket closed (or was given up at `timeoutMs`). */
  closedMs: number
  /** The server closed the connection (rather than us at `timeoutMs`, or after the answer). */
  serverClosed: boolean
}

export interface RawOptions {
  /** Pause before each part of `parts`. */
  gapMs?: number
  /** Give up (close the socket) after this long. */
  timeoutMs?: number
  /** Close the socket as soon as the answer is complete (default); false waits for the server to close it. */
  closeOnAnswer?: boolean
}

/** Writes `head`, then each of `parts` after `gapMs`, and reads one response. */
export function rawRequest(port: number, head: string, parts: (string | Uint8Array)[] = [], options: RawOptions = {}): Promise<RawResponse> {
  const { gapMs = 0, timeoutMs = 15_000, closeOnAnswer = true } = options
  return new Promise((resolve) => {
    const started = performance.now()
    const socket = connect(port, '127.0.0.1')
    let received = Buffer.alloc(0)
    let answer: Omit<RawResponse, 'closedMs' | 'serverClosed'> | null = null
    let weClosed = false
    const giveUp = setTimeout(() => {
      weClosed = true
      socket.destroy()
    }, timeoutMs)
    let writer: ReturnType<typeof setTimeout> | undefined
    const finish = () => {
      clearTimeout(giveUp)
      clearTimeout(writer)
      const closedMs = Math.round(performance.now() - started)
      resolve({ ...(answer ?? parseResponse(received, closedMs, true)), closedMs, serverClosed: !weClosed })
    }
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data])
      if (answer) return
      answer = parseResponse(received, Math.round(performance.now() - started), false)
      if (answer.status === 0) answer = null
      else if (closeOnAnswer) {
        weClosed = true
        socket.destroy()
      }
    })
    socket.on('close', finish)
    socket.on('error', () => {})
    socket.write(head)
    let next = 0
    const writeNext = () => {
      if (next >= parts.length || socket.destroyed) return
      socket.write(parts[next++]!)
      writer = setTimeout(writeNext, gapMs)
    }
    writer = setTimeout(writeNext, gapMs)
  })
}

/**
 * Writes `head`, then each of `parts` after `gapMs`, then `next` (a second
 * request on the same connection), and collects every response that arrives
 * until `timeoutMs` or the server's close.
 */
export function rawExchange(
  port: number,
  head: string,
  parts: string[],
  next: string,
  options: { gapMs: number; timeoutMs: number /** Close once this many responses have arrived. */; expected?: number },
): Promise<{ responses: (Omit<RawResponse, 'closedMs' | 'serverClosed'> & { atMs: number })[]; serverClosed: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now()
    const socket = connect(port, '127.0.0.1')
    const responses: (Omit<RawResponse, 'closedMs' | 'serverClosed'> & { atMs: number })[] = []
    let pending = Buffer.alloc(0)
    let serverClosed = true
    const giveUp = setTimeout(() => {
      serverClosed = false
      socket.destroy()
    }, options.timeoutMs)
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data])
      for (;;) {
        const end = pending.indexOf('\r\n\r\n')
        if (end === -1) return
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(pending.subarray(0, end).toString('latin1'))?.[1] ?? 0)
        if (pending.length < end + 4 + length) return
        responses.push({ ...parseResponse(pending.subarray(0, end + 4 + length), 0, false), atMs: Math.round(performance.now() - started) })
        pending = pending.subarray(end + 4 + length)
        if (responses.length === options.expected) {
          serverClosed = false
          socket.destroy()
          return
        }
      }
    })
    socket.on('close', () => {
      clearTimeout(giveUp)
      resolve({ responses, serverClosed })
    })
    socket.on('error', () => {})
    socket.write(head)
    const writes = [...parts, next]
    const writeNext = () => {
      if (writes.length === 0 || socket.destroyed) return
      socket.write(writes.shift()!)
      setTimeout(writeNext, options.gapMs)
    }
    setTimeout(writeNext, options.gapMs)
  })
}

/** The first response in `bytes` if it is complete (status 0 otherwise); `atClose` accepts a body ended by the close. */
function parseResponse(bytes: Buffer, respondedMs: number, atClose: boolean): Omit<RawResponse, 'closedMs' | 'serverClosed'> {
  const none = { status: 0, headers: {}, body: '', respondedMs: -1 }
  const end = bytes.indexOf('\r\n\r\n')
  if (end === -1) return none
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const rest = bytes.subarray(end + 4)
  const length = headers['content-length']
  if (length === undefined && !atClose) return none
  const size = length === undefined ? rest.length : Number(length)
  if (rest.length < size) return none
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0)
  return { status, headers, body: rest.subarray(0, size).toString('utf8'), respondedMs }
}

/** A request head: method, path and headers, ending with the blank line. */
export function head(path: string, headers: Record<string, string>, method = 'POST'): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return `${lines.join('\r\n')}\r\n\r\n`
}

/** One chunk of a chunked body (the empty string is the last chunk). */
export function chunk(data: string | Uint8Array): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')])
}
