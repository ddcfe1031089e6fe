// latch's runtime seam under Deno (see ./runtime.ts): Deno.serve(app.fetch),
// Deno.FsFile's flock(2), child processes through node:child_process (`deno
// eval` with an IPC channel) and node:crypto's SHA-256.
//
// Deno.serve has no idle timeout: idle keep-alive connections stay open until
// the client closes them (the README's table of runtime differences says so).
// The slow-body deadline (408) and the body-size limit (413) are the app's own
// (src/http/body.ts), so they hold the same on both runtimes.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { dispatcher, type ListenOptions, type Listener, type LockableFile, type Runtime, type ScriptHandlers, type ServableApp } from './runtime'

/** The part of the Deno namespace used here (declared locally: the rest of latch must not see it). */
declare const Deno: {
  serve(
    options: {
      port: number
      hostname: string
      reusePort: boolean
      automaticCompression: boolean
      onListen(addr: { port: number }): void
      onError(error: unknown): Response
    },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> }
  openSync(path: string, options: { read: boolean; write?: boolean; create?: boolean; mode?: number }): DenoFile
  errors: { NotFound: new (...args: never[]) => Error; AddrInUse: new (...args: never[]) => Error }
}

interface DenoFile {
  statSync(): { dev: number; ino: number | null }
  tryLockSync(exclusive: boolean): boolean
  close(): void
}

function listen(app: ServableApp, options: ListenOptions): Listener {
  // The socket's peer for the audit log (src/http/audit-context.ts reads it through the handler
  // context's `server`, which Elysia takes from app.server).
  const peers = new WeakMap<Request, string>()
  app.server = {
    requestIP: (request: Request) => {
      const address = peers.get(request)
      return address === undefined ? null : { address }
    },
  }
  // Deno.serve has no route table: the routes Bun.serve would answer first are looked up here.
  const fetch = dispatcher(app, (request) => app.fetch(request))
  const handler = (request: Request, info: { remoteAddr: { hostname: string } }) => {
    const declared = Number(request.headers.get('content-length'))
    if (declared > options.maxRequestBodySize) return new Response('Payload Too Large', { status: 413 })
    peers.set(request, info.remoteAddr.hostname)
    return fetch(request)
  }
  let server: ReturnType<typeof Deno.serve>
  try {
    server = Deno.serve(
      {
        port: options.port,
        hostname: options.hostname,
        reusePort: false,
        // Bun compresses nothing; the same bytes go out on both runtimes.
        automaticCompression: false,
        onListen: () => {}, // latch prints its own line
        onError: () => new Response('Internal Server Error', { status: 500 }),
      },
      handler,
    )
  } catch (error) {
    // Bun's words, so that latch says the same on both runtimes.
    if (error instanceof Deno.errors.AddrInUse) throw new Error(`Failed to start server. Is port ${options.port} in use?`)
    throw error
  }
  return { port: server.addr.port, stop: () => server.shutdown() }
}

function openLockableFile(path: string): LockableFile {
  let file: DenoFile
  try {
    file = Deno.openSync(path, { read: true })
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error
    // Creating needs write access; the descriptor is only ever locked.
    file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 })
  }
  const stat = file.statSync()
  return {
    id: `${stat.dev}:${stat.ino}`,
    tryLock: () => file.tryLockSync(true),
    close: () => file.close(),
  }
}

function spawnScript(source: string, handlers: ScriptHandlers) {
  // --no-config: the child reads no deno.json of the directory it starts in; it imports only node: modules.
  const child = spawn(process.execPath, ['eval', '--no-config', source], {
    env: handlers.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  child.on('message', (message) => handlers.onMessage(message))
  // 'error': it could not be started (no 'exit' follows).
  child.on('error', () => handlers.onExit())
  child.on('exit', () => handlers.onExit())
  return {
    pid: child.pid ?? 0,
    send: (message: unknown) => {
      child.send(message as never)
    },
    kill: () => {
      child.kill('SIGKILL')
    },
    unref: () => {
      child.unref()
      child.channel?.unref()
    },
  }
}

export const runtime: Runtime = {
  sha256Base64: (text) => createHash('sha256').update(text).digest('base64'),
  listen,
  openLockableFile,
  spawnScript,
  // The permissions of `npm run start:deno`; the project's deno.json is found from the entry's folder.
  scriptCommand: (entry) => [process.execPath, 'run', '--allow-all', entry],
}
