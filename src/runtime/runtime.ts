// What latch needs from the JavaScript runtime beyond the web and node:
// standards both Bun and Deno implement: a listening socket, an exclusive
// lock on a file, a child process of the runtime itself with a message
// channel, and fast SHA-256.
//
// ./bun.ts and ./deno.ts implement it; package.json's "imports" (`#runtime`,
// by the "bun" and "deno" conditions) picks one when the module is resolved.
// They, and the SQLite drivers (src/db/sqlite/driver/), are the only files
// that know which runtime latch runs on.

/** A request handler of Bun.serve's route table: `{ [path]: { [method]: handler } }`. */
export type RouteHandler = (request: Request) => Response | Promise<Response>
export type RouteTable = Record<string, Partial<Record<string, RouteHandler>>>

/** What the listener needs of the app: an Elysia instance (described here, so this layer does not import Elysia). */
export interface ServableApp {
  fetch(request: Request): Response | Promise<Response>
  /** Routes answered before Elysia's own router (Elysia hands `serve.routes` to Bun.serve; elsewhere see `dispatcher`). */
  config: { serve?: object }
  listen(options: { port: number; hostname: string; maxRequestBodySize: number; idleTimeout: number; reusePort: boolean }): unknown
  /** Elysia's server after `listen`; its handler context's `server` reads it (e.g. for the peer's address). */
  server: unknown
}

export interface ListenOptions {
  port: number
  hostname: string
  /** Bodies declared larger than this are refused before the app sees them (a backstop: src/http/body.ts answers first). */
  maxRequestBodySize: number
  /** A connection that sends and receives nothing for this long is closed (where the runtime can; see the README). */
  idleTimeoutSeconds: number
}

export interface Listener {
  /** The port bound (the one asked for, or the one chosen for port 0). */
  readonly port: number
  /** Stops accepting connections and resolves once the requests in flight are answered. */
  stop(): Promise<void>
}

/** A file held open for locking: see src/db/server-lock.ts for why it is never closed early. */
export interface LockableFile {
  /** `<device>:<inode>` of the file opened. */
  readonly id: string
  /** An exclusive flock(2), without waiting: false when another descriptor holds it. */
  tryLock(): boolean
  /** Closes the descriptor, which releases the lock. */
  close(): void
}

/** A child process running JavaScript source in this runtime, with a message channel. */
export interface ScriptProcess {
  readonly pid: number
  /** Sends a structured-clonable message (the child reads it with `process.on('message')`). */
  send(message: unknown): void
  /** SIGKILL: stops the child wherever it is (e.g. inside a SQLite call). */
  kill(): void
  /** Lets this process exit while the child still runs. */
  unref(): void
}

export interface ScriptHandlers {
  env: Record<string, string | undefined>
  /** A message the child sent with `process.send`. */
  onMessage(message: unknown): void
  /** The child ended (or could not be started). */
  onExit(): void
}

export interface Runtime {
  /** base64(SHA-256(UTF-8 text)); Bun's one-shot hasher is several times node:crypto's. */
  sha256Base64(text: string): string
  /** Serves `app` (throws when the port cannot be bound). */
  listen(app: ServableApp, options: ListenOptions): Listener
  /** Opens `path` for locking, creating it (mode 0600) when missing. */
  openLockableFile(path: string): LockableFile
  /**
   * Runs `source` in a child process of this runtime (a compiled latch runs
   * itself). Under Bun the source is a script; under Deno an ES module.
   */
  spawnScript(source: string, handlers: ScriptHandlers): ScriptProcess
  /** The command line that runs the TypeScript file `entry` on this runtime, as `npm start` runs src/index.ts (for tests and scripts). */
  scriptCommand(entry: string): string[]
}

/**
 * The app's handler with its `serve.routes` in front, for callers that are not
 * Bun.serve (Deno.serve, `app.handle` in tests): the same answers from the
 * same handlers, whichever server runs them.
 */
export function dispatcher(app: Pick<ServableApp, 'config'>, rest: RouteHandler): RouteHandler {
  const routes = (app.config.serve as { routes?: RouteTable } | undefined)?.routes
  if (!routes) return rest
  return (request) => {
    const url = request.url
    const start = url.indexOf('/', url.indexOf('//') + 2)
    const query = url.indexOf('?', start)
    const handler = routes[query === -1 ? url.slice(start) : url.slice(start, query)]?.[request.method]
    return handler ? handler(request) : rest(request)
  }
}
