// latch's runtime seam under Bun (see ./runtime.ts): Elysia's own listener on
// Bun.serve, flock(2) through bun:ffi, child processes through Bun.spawn, and
// Bun's one-shot SHA-256, several times faster than node:crypto's streaming
// hasher on the hot path (every root key and every verified key is hashed).
import { dlopen, FFIType, read, suffix } from 'bun:ffi'
import { closeSync, constants, fstatSync, openSync } from 'node:fs'
import type { ListenOptions, LockableFile, Runtime, ScriptHandlers, ServableApp } from './runtime'

function listen(app: ServableApp, options: ListenOptions) {
  // reusePort off (Elysia turns it on): a second latch on the same port must fail, not silently
  // share traffic, since each process keeps its own caches and counters.
  app.listen({
    port: options.port,
    hostname: options.hostname,
    maxRequestBodySize: options.maxRequestBodySize,
    idleTimeout: options.idleTimeoutSeconds,
    reusePort: false,
  })
  const server = app.server as { port: number; stop(): Promise<void> }
  return { port: server.port, stop: () => server.stop() }
}

const LOCK_EX = 2
const LOCK_NB = 4

interface Libc {
  flock(fd: number, operation: number): number
  errno(): number
  wouldBlock: number
}

let libc: Libc | undefined

function loadLibc(): Libc {
  if (libc) return libc
  const linux = process.platform === 'linux'
  if (!linux && process.platform !== 'darwin') throw new Error(`latch cannot lock its database on ${process.platform} (flock is needed)`)
  const errnoSymbol = linux ? '__errno_location' : '__error'
  const lib = dlopen(linux ? 'libc.so.6' : `libc.${suffix}`, {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    [errnoSymbol]: { args: [], returns: FFIType.ptr },
  })
  const errnoLocation = lib.symbols[errnoSymbol] as () => number | null
  libc = {
    flock: (fd, operation) => lib.symbols.flock(fd, operation) as number,
    errno: () => {
      const at = errnoLocation()
      return at ? read.i32(at as never, 0) : 0
    },
    wouldBlock: linux ? 11 : 35, // EWOULDBLOCK
  }
  return libc
}

function openLockableFile(path: string): LockableFile {
  const flock = loadLibc()
  const fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o600)
  const stat = fstatSync(fd)
  return {
    id: `${stat.dev}:${stat.ino}`,
    tryLock() {
      if (flock.flock(fd, LOCK_EX | LOCK_NB) === 0) return true
      const errno = flock.errno()
      if (errno === flock.wouldBlock) return false
      throw new Error(`Could not lock ${path}: flock failed with errno ${errno}.`)
    },
    close: () => closeSync(fd),
  }
}

function spawnScript(source: string, handlers: ScriptHandlers) {
  // A compiled latch acts as bun itself when BUN_BE_BUN is set.
  const proc = Bun.spawn([process.execPath, '-e', source], {
    env: { ...handlers.env, BUN_BE_BUN: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
    ipc: (message) => handlers.onMessage(message),
    onExit: () => handlers.onExit(),
  })
  return {
    pid: proc.pid,
    send: (message: unknown) => proc.send(message),
    kill: () => proc.kill('SIGKILL'),
    unref: () => proc.unref(),
  }
}

const native = Bun.SHA256

export const runtime: Runtime = {
  sha256Base64: (text) => native.hash(text, 'base64'),
  listen,
  openLockableFile,
  spawnScript,
  scriptCommand: (entry) => [process.execPath, entry],
}
