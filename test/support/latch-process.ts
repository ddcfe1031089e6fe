// latch's entry point (src/index.ts) in a child process, on the runtime that
// runs the tests: `bun src/index.ts ...` under Bun, `deno run ... src/index.ts`
// under Deno (the runtime seam's scriptCommand). Output is collected as it
// arrives, so a test can wait for a line.
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { resolve } from 'node:path'
import { runtime } from '#runtime'

export const ENTRY = resolve(import.meta.dirname, '..', '..', 'src', 'index.ts')

/**
 * The child, for signals. It is signalled with process.kill, not through
 * ChildProcess.kill: Deno's node:child_process reports a child it signalled
 * itself as killed by that signal even when the child handled it and exited 0.
 */
export interface ChildHandle {
  kill(signal?: NodeJS.Signals): void
  /** The exit code (as `exited` gives it) once the child has ended, else null. */
  readonly exitCode: number | null
}

export interface LatchProcess {
  proc: ChildHandle
  pid: number
  stdout(): string
  stderr(): string
  /** The exit code; 128 + the signal's number when a signal ended it. */
  exited: Promise<number>
}

export interface LatchProcessOptions {
  cwd?: string
  env?: Record<string, string>
  /** Another script to run instead of src/index.ts (e.g. scripts/seed.ts). */
  entry?: string
  /** The command that runs a script (e.g. another runtime's); default: this runtime's (src/runtime/). */
  command?: (entry: string) => string[]
}

/**
 * Starts `latch <args>` in `cwd` with only `env` (and PATH, and HOME for the
 * runtime's own cache) in its environment, so the test's own is never inherited.
 */
export function spawnLatch(args: string[], options: LatchProcessOptions = {}): LatchProcess {
  const [command, ...prefix] = (options.command ?? runtime.scriptCommand)(options.entry ?? ENTRY)
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...options.env }
  if (process.env.HOME) env.HOME = process.env.HOME
  const proc = spawn(command!, [...prefix, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { text: '' }
  const err = { text: '' }
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out.text += chunk))
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err.text += chunk))
  let exitCode: number | null = null
  const exited = new Promise<number>((done) => {
    proc.on('close', (code, signal) => {
      exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0)
      done(exitCode)
    })
  })
  const handle: ChildHandle = {
    kill: (signal = 'SIGTERM') => {
      if (exitCode === null) process.kill(proc.pid!, signal)
    },
    get exitCode() {
      return exitCode
    },
  }
  return { proc: handle, pid: proc.pid!, stdout: () => out.text, stderr: () => err.text, exited }
}

/** Runs `latch <args>` to its end. */
export async function runLatch(args: string[], options: LatchProcessOptions = {}) {
  const child = spawnLatch(args, options)
  const code = await child.exited
  return { code, stdout: child.stdout(), stderr: child.stderr() }
}
