// The processes `npm run bench` runs: the compiled latch binary (built when
// missing), wrk (installed with apt-get when missing), and the servers under
// test, each in its own process on a free 127.0.0.1 port. Servers write their
// output to a file, never to a pipe the benchmark reads, so that a chatty
// request log costs the server its writes and nothing else.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { BINARY, cleanEnv, freePort, within } from '../smoke'

const ROOT = resolve(import.meta.dir, '..', '..')

/** Runs a command to completion with inherited output; throws on a non-zero exit. */
async function run(cmd: string[], what: string): Promise<void> {
  console.log(`$ ${cmd.join(' ')}`)
  const code = await Bun.spawn(cmd, { cwd: ROOT, stdout: 'inherit', stderr: 'inherit', stdin: 'ignore' }).exited
  if (code !== 0) throw new Error(`${what} failed with exit code ${code}`)
}

/** The latch binary to measure: `binary` if given, else dist/latch, built by `npm run build` when missing or on --rebuild. */
export async function ensureBinary(options: { binary?: string; rebuild: boolean }): Promise<string> {
  if (options.binary) {
    const binary = resolve(options.binary)
    if (!existsSync(binary)) throw new Error(`--binary ${binary} does not exist`)
    return binary
  }
  if (options.rebuild || !existsSync(BINARY)) await run(['npm', 'run', 'build'], 'npm run build')
  return BINARY
}

/** The path of wrk, installing the Debian package when it is not on PATH. */
export async function ensureWrk(): Promise<string> {
  const found = Bun.which('wrk')
  if (found) return found
  const install = ['apt-get', 'install', '-y', 'wrk']
  try {
    await run(install, 'apt-get install wrk')
  } catch {
    await run(['apt-get', 'update'], 'apt-get update')
    await run(install, 'apt-get install wrk')
  }
  const installed = Bun.which('wrk')
  if (!installed) throw new Error('wrk is still not on PATH after apt-get install')
  return installed
}

export interface Server {
  name: string
  url: string
  pid: number
  /** Peak resident set size (VmHWM) in bytes, while the process runs. */
  peakRss(): number | null
  /** Resident set size now (VmRSS) in bytes, while the process runs. */
  rss(): number | null
  /** CPU time used so far (user + system, µs), by its main thread and by all its other threads; null once gone. */
  cpu(): ThreadCpu | null
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves to the exit code (null when killed). */
  stop(timeoutMs?: number): Promise<number | null>
}

export interface ServerSpec {
  name: string
  /** The command; `{port}` in an argument is replaced with the chosen port. */
  cmd: string[]
  env?: Record<string, string>
  /** Where the server's stdout and stderr go (a file path, or /dev/null). */
  output: string
  /** Answers 200 once the server is ready, e.g. '/v2/liveness'. */
  readyPath: string
  /** Working directory (default: the repository); latch runs in its temporary directory. */
  cwd?: string
  timeoutMs?: number
}

/** Starts `spec` on a free loopback port and resolves once `readyPath` answers 200. */
export async function startServer(spec: ServerSpec): Promise<Server> {
  const port = await freePort()
  const started = await spawnUntilReady(spec, port)
  return started.server
}

/** Milliseconds from spawn to the first 200 from `readyPath`, polling every 2 ms. */
export async function timeToReady(spec: ServerSpec): Promise<number> {
  const started = await spawnUntilReady(spec, await freePort())
  const code = await started.server.stop()
  if (code !== 0) throw new Error(`${spec.name} exited with ${code} after the start-up measurement; output in ${spec.output}`)
  return started.readyAfterMs
}

async function spawnUntilReady(spec: ServerSpec, port: number): Promise<{ server: Server; readyAfterMs: number }> {
  const url = `http://127.0.0.1:${port}`
  const cmd = spec.cmd.map((part) => part.replaceAll('{port}', String(port)))
  // One descriptor in append mode for both streams, so neither overwrites the other.
  const out = openSync(spec.output, 'a')
  const t0 = performance.now()
  const proc = Bun.spawn(cmd, { cwd: spec.cwd ?? ROOT, env: cleanEnv(spec.env), stdin: 'ignore', stdout: out, stderr: out })
  closeSync(out)
  const server: Server = {
    name: spec.name,
    url,
    pid: proc.pid,
    peakRss: () => statusBytes(proc.pid, 'VmHWM'),
    rss: () => statusBytes(proc.pid, 'VmRSS'),
    cpu: () => threadCpu(proc.pid),
    async stop(timeoutMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      proc.kill('SIGTERM')
      const code = await within(proc.exited, timeoutMs)
      if (code === null) {
        proc.kill('SIGKILL')
        await proc.exited
      }
      return code
    },
  }
  const deadline = t0 + (spec.timeoutMs ?? 15_000)
  while (performance.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${spec.name} exited with ${proc.exitCode} before it was ready; output in ${spec.output}`)
    try {
      const res = await fetch(`${url}${spec.readyPath}`)
      await res.arrayBuffer()
      if (res.status === 200) return { server, readyAfterMs: performance.now() - t0 }
    } catch {
      // not listening yet
    }
    await Bun.sleep(2)
  }
  await server.stop(1_000)
  throw new Error(`${spec.name} did not answer ${spec.readyPath} within ${spec.timeoutMs ?? 15_000} ms; output in ${spec.output}`)
}

export interface ThreadCpu {
  /** The thread that serves requests (the process's first). */
  mainUs: number
  /** Every other thread: latch's analytics writer, the garbage collector's helpers, the JIT. */
  otherUs: number
}

/** Linux reports thread times in clock ticks of 10 ms (USER_HZ is 100 on every Linux that Bun runs on). */
const US_PER_TICK = 10_000

/** Per-thread CPU time of a running process from /proc/PID/task/TID/stat (fields 14 and 15: utime, stime). */
function threadCpu(pid: number): ThreadCpu | null {
  let tasks: string[]
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return null
  }
  const cpu: ThreadCpu = { mainUs: 0, otherUs: 0 }
  for (const tid of tasks) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      continue // a thread that ended meanwhile
    }
    // After the command name in parentheses (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const us = (Number(fields[11]) + Number(fields[12])) * US_PER_TICK
    if (tid === String(pid)) cpu.mainUs += us
    else cpu.otherUs += us
  }
  return cpu
}

/** A memory figure (VmHWM, VmRSS) of a running process from /proc, in bytes. */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    return kb ? Number(kb[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Size in bytes of `path`, or 0 when it does not exist. */
export function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0
}

/** Bun's own executable, to run the reference servers with the same runtime as `npm run bench`. */
export const BUN = process.execPath
