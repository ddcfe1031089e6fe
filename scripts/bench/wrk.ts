// Runs one wrk load against one scenario and returns wrk's own figures, parsed
// from the JSON line rpc.lua's done() prints (never from wrk's text report).
// A run whose responses mostly carry a status other than the scenario's fails
// loudly, as does one with socket errors: a fast error page is not a result.
import { resolve } from 'node:path'
import { within } from '../smoke'
import type { Scenario } from './scenarios'

const LUA = resolve(import.meta.dir, 'rpc.lua')

export interface WrkResult {
  requests: number
  durationUs: number
  bytes: number
  p50Us: number
  p90Us: number
  p99Us: number
  meanUs: number
  maxUs: number
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  /** requests per second over wrk's measured duration. */
  rps: number
}

export interface Load {
  connections: number
  seconds: number
}

/** Share of responses allowed to have an unexpected status, or to fail at the socket. */
const TOLERANCE = 0.01

/** The argv of a wrk run of `scenario` against `url` (1 thread, keep-alive, rpc.lua). */
export function wrkCommand(wrk: string, url: string, scenario: Scenario, rootKey: string, load: Load): string[] {
  return [
    wrk,
    '-t1',
    `-c${load.connections}`,
    `-d${load.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    LUA,
    url,
    '--',
    scenario.method,
    scenario.path,
    scenario.auth === 'unknown' ? '~unknown' : scenario.auth ? rootKey : '-',
    scenario.template,
    scenario.source,
  ]
}

export async function runWrk(wrk: string, url: string, scenario: Scenario, rootKey: string, load: Load): Promise<WrkResult> {
  const cmd = wrkCommand(wrk, url, scenario, rootKey, load)
  const proc = Bun.spawn(cmd, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  // wrk stops by itself after -d; this bound only guards against a hung run.
  const code = await within(proc.exited, (load.seconds + 20) * 1000)
  if (code === null) {
    proc.kill('SIGKILL')
    await proc.exited
    throw new Error(`${scenario.label}: wrk did not finish within ${load.seconds + 20}s`)
  }
  const [stdout, stderr] = await output
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
  if (code !== 0 || !line) throw new Error(`${scenario.label}: wrk exited with ${code} and no result\n${stdout}\n${stderr}`)
  const parsed = JSON.parse(line.slice('BENCH_RESULT '.length)) as Omit<WrkResult, 'rps'>
  const result: WrkResult = { ...parsed, rps: parsed.requests / (parsed.durationUs / 1e6) }
  check(scenario, result, stdout)
  return result
}

function check(scenario: Scenario, r: WrkResult, report: string): void {
  const fail = (why: string) => {
    throw new Error(`${scenario.label}: ${why}\n--- wrk report ---\n${report}`)
  }
  if (r.requests === 0) fail('wrk completed no request')
  // wrk counts responses with a status of 400 or more as errors.status.
  const unexpected = scenario.expectStatus < 400 ? r.errors.status : r.requests - r.errors.status
  if (unexpected > r.requests * TOLERANCE) {
    fail(`${unexpected} of ${r.requests} responses did not have status ${scenario.expectStatus}`)
  }
  const socket = r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout
  if (socket > r.requests * TOLERANCE) fail(`${socket} socket errors in ${r.requests} requests: ${JSON.stringify(r.errors)}`)
}
