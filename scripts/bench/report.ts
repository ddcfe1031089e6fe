// What `npm run bench` reports: one table (the same Markdown in the terminal
// and in docs/benchmarks.md), the same figures as JSON, and the server facts
// (peak RSS, database size, start-up time). Ratios are to the Bun.serve echo
// measured in the same run; they are the figures worth comparing across runs.
import { existsSync, mkdirSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { LargeFigures } from './large'
import type { ThreadCpu } from './processes'
import type { Scenario } from './scenarios'
import type { WrkResult } from './wrk'

export interface Row {
  id: string
  label: string
  /** One result per round, at the default number of connections. */
  rounds: WrkResult[]
  /** The run at the low number of connections, for the p99 comparison. */
  low: WrkResult
  rps: number
  p50Ms: number
  p99Ms: number
  /** rps / the baseline's rps, both averaged over the rounds. */
  ratio: number
  /** Each round's rps / that round's baseline rps, to show the noise. */
  roundRatios: number[]
  lowP99Ms: number
  /** p99 at the low number of connections / the baseline's p99 there. */
  lowP99Ratio: number
  /**
   * The server's CPU time per request (µs, mean of the rounds): its request
   * thread, and its other threads (analytics writer, garbage collector, JIT).
   * Steadier than req/s on a busy machine; null when /proc could not be read.
   */
  cpu: ThreadCpu | null
}

export interface Report {
  date: string
  /** What the binary was built from, when known (empty for --binary). */
  commit: string
  /** The repository's HEAD when the run started. */
  repositoryHead: string
  label: string
  binary: string
  settings: { keys: number; seconds: number; connections: number; lowConnections: number; rounds: number; log: string; threads: number }
  /** loadAverage: the 1-minute load average before and after the run, i.e. other work on the machine. */
  machine: { cpus: number; model: string; bun: string; wrk: string; loadAverage: number[] }
  seeding: { keys: number; seconds: number }
  rows: Row[]
  server: {
    peakRssBytes: number | null
    logOffPeakRssBytes: number | null
    dbBytes: number
    walBytes: number
    startupMs: number[]
    startupMedianMs: number
    requestLogBytes: number
  }
  /** verifyKey over a store of many keys (scripts/bench/large.ts); absent with --no-large. */
  large?: LargeFigures
  /** The cluster-mode section (scripts/bench/cluster.ts), as Markdown, or why it was skipped; absent with --no-cluster. */
  cluster?: string
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Rows with ratios, from each scenario's results; `baselineLow` is the baseline's p99 at low connections (µs). */
export function buildRows(
  scenarios: Scenario[],
  results: Map<string, WrkResult[]>,
  low: Map<string, WrkResult>,
  baselineLowP99Us: number,
  cpu: Map<string, ThreadCpu[]>,
): Row[] {
  const baseline = results.get(scenarios[0]!.id)!
  const baseRps = mean(baseline.map((r) => r.rps))
  return scenarios.map((s) => {
    const rounds = results.get(s.id)!
    const lowResult = low.get(s.id)!
    const rps = mean(rounds.map((r) => r.rps))
    const lowP99Us = s.id === scenarios[0]!.id ? baselineLowP99Us : lowResult.p99Us
    return {
      id: s.id,
      label: s.label,
      rounds,
      low: lowResult,
      rps,
      p50Ms: mean(rounds.map((r) => r.p50Us)) / 1000,
      p99Ms: mean(rounds.map((r) => r.p99Us)) / 1000,
      ratio: rps / baseRps,
      roundRatios: rounds.map((r, i) => r.rps / baseline[i]!.rps),
      lowP99Ms: lowP99Us / 1000,
      lowP99Ratio: lowP99Us / baselineLowP99Us,
      cpu: meanCpu(cpu.get(s.id) ?? []),
    }
  })
}

function meanCpu(rounds: ThreadCpu[]): ThreadCpu | null {
  if (rounds.length === 0) return null
  return { mainUs: mean(rounds.map((c) => c.mainUs)), otherUs: mean(rounds.map((c) => c.otherUs)) }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1))
const x = (n: number) => `${n.toFixed(2)}×`
const mib = (n: number | null) => (n === null ? 'n/a' : `${(n / 1024 / 1024).toFixed(1)} MiB`)

/** The results as one Markdown table, padded so that it also reads well in a terminal. */
export function formatTable(report: Report): string {
  const { connections: c, lowConnections: lc } = report.settings
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'req/s ÷ echo', 'per round', `p99 ms @${lc}c`, `p99 ÷ echo @${lc}c`, 'CPU µs/req: main + other']
  const body = report.rows.map((r) => [
    r.label,
    int(r.rps),
    ms(r.p50Ms),
    ms(r.p99Ms),
    x(r.ratio),
    r.roundRatios.map((v) => v.toFixed(2)).join(' / '),
    ms(r.lowP99Ms),
    x(r.lowP99Ratio),
    r.cpu ? `${r.cpu.mainUs.toFixed(1)} + ${r.cpu.otherUs.toFixed(1)}` : 'n/a',
  ])
  const s = report.server
  return [
    `${report.settings.keys.toLocaleString('en-US')} keys, ${report.settings.seconds} s per run, wrk ${report.settings.threads} thread, ${c} connections ` +
      `(p99 comparison at ${lc}), ${report.settings.rounds} rounds, request log: ${report.settings.log}`,
    '',
    markdownTable(header, body),
    '',
    `- latch peak RSS (VmHWM): ${mib(s.peakRssBytes)}${s.logOffPeakRssBytes !== null ? ` (log-off server: ${mib(s.logOffPeakRssBytes)})` : ''}`,
    `- database: ${mib(s.dbBytes)} + ${mib(s.walBytes)} WAL at the end of the load`,
    `- start-up to the first GET /v2/liveness 200 on that database: median ${ms(s.startupMedianMs)} ms ` +
      `(${s.startupMs.map((v) => v.toFixed(0)).join(', ')} ms)`,
    `- seeding ${int(report.seeding.keys)} keys over HTTP (32 in flight): ${report.seeding.seconds.toFixed(1)} s` +
      (s.requestLogBytes > 0 ? `; request log written: ${mib(s.requestLogBytes)}` : ''),
    `- ${report.machine.cpus} × ${report.machine.model}, 1-minute load average ${report.machine.loadAverage.map((v) => v.toFixed(1)).join(' before, ')} after; ` +
      `bun ${report.machine.bun}; ${report.machine.wrk}; binary ${report.binary}`,
    ...(report.large ? ['', formatLarge(report.large, report.rows, report.settings.keys)] : []),
    ...(report.cluster ? ['', report.cluster] : []),
  ].join('\n')
}

/** Rows of cells as a Markdown table: the first column left-aligned, the others right-aligned, padded for a terminal. */
function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...body.map(line)].join('\n')
}

/** The large-store table: ratios to the echo of the main table and to the 10,000-key verifyKey run beside it. */
function formatLarge(large: LargeFigures, rows: Row[], mainKeys: number): string {
  const echo = rows[0]!.rps
  const reference = mean(large.reference.map((r) => r.rps))
  const n = large.keys.toLocaleString('en-US')
  const row = (label: string, rps: number, p50Us: number | null, p99Us: number | null) => [
    label,
    int(rps),
    p50Us === null ? '' : ms(p50Us / 1000),
    p99Us === null ? '' : ms(p99Us / 1000),
    x(rps / echo),
    x(rps / reference),
  ]
  const avg = (rs: WrkResult[], field: 'rps' | 'p50Us' | 'p99Us') => mean(rs.map((r) => r[field]))
  const header = [`large store: ${n} keys, random key per request`, 'req/s', 'p50 ms', 'p99 ms', 'req/s ÷ echo', `÷ ${mainKeys.toLocaleString('en-US')} keys`]
  const body = [
    row(
      `keys.verifyKey, ${mainKeys.toLocaleString('en-US')} keys, run beside the warm rounds`,
      reference,
      avg(large.reference, 'p50Us'),
      avg(large.reference, 'p99Us'),
    ),
    row(`keys.verifyKey, ${n} keys, cold (server just started)`, large.cold.rps, large.cold.p50Us, large.cold.p99Us),
    row(`warm-up: each of the ${n} keys once, in order`, large.warmUp.rps, null, null),
    row(`keys.verifyKey, ${n} keys, warm (${large.warm.length} rounds)`, avg(large.warm, 'rps'), avg(large.warm, 'p50Us'), avg(large.warm, 'p99Us')),
  ]
  return [
    markdownTable(header, body),
    '',
    `- large-store server peak RSS (VmHWM): ${mib(large.peakRssBytes)}; ${mib(large.endRssBytes)} at the end of the load`,
    `- database: ${mib(large.dbBytes)} + ${mib(large.walBytes)} WAL at the end of the load; warm-up pass ${large.warmUp.seconds.toFixed(1)} s`,
    `- seeding ${n} keys straight into SQLite (scripts/bench/seed-large.ts): ${large.seeding.seconds.toFixed(1)} s, of which the insert ${large.seeding.insertSeconds.toFixed(1)} s`,
  ].join('\n')
}

export async function writeJson(path: string, report: Report): Promise<void> {
  mkdirSync(dirname(path), { recursive: true })
  await Bun.write(path, JSON.stringify(report, null, 2) + '\n')
}

const DOC_HEADER = `# Benchmarks

\`npm run bench\` (scripts/bench/run.ts) measures latch over real sockets: the
compiled binary (\`dist/latch\`) serves a temporary database seeded over HTTP
with 10,000 keys, and [wrk](https://github.com/wg/wrk) (1 thread, 64 keep-alive
connections, 5 s per scenario) loads it from its own process, each request
picking a random key among many so that no single cache entry is hot.

Every figure is a **ratio to a bare \`Bun.serve\` JSON echo measured in the same
run**, with the same request shape. The machine has 2 cores shared by the
server, wrk and whatever else runs: absolute requests per second move from run
to run, ratios much less. Compare ratios, not absolutes. The scenarios run in
two interleaved rounds (baseline, then every scenario, twice); "per round" shows
each round's ratio to its own baseline, so the spread is visible. Every
scenario runs once more at 8 connections, where latency is not dominated by
queueing, for a p99 comparison with the baseline at 8 connections.

A second reference row is a minimal Elysia app with the shape of a latch route
(a derive reading \`Authorization\`, a macro with a resolve, body and response
schemas, a JSON envelope), to separate what the framework costs from what latch
adds. With the request log on, the server writes its log to a file as a user
would run it; one \`keys.verifyKey\` row repeats the scenario with
\`LATCH_LOG=off\`.

Options: \`--quick\` (2 s, 1,000 keys, 50,000 in the large store), \`--keys N\`,
\`--duration S\`, \`--connections C\`, \`--log on|off|both\`, \`--rebuild\`,
\`--binary PATH\`, \`--label TEXT\`, \`--no-append\` (do not write this file),
\`--no-cluster\`, \`--large-keys N\`, \`--no-large\`.

Then a large-store table (scripts/bench/large.ts): \`keys.verifyKey\` over a
store of 1,000,000 keys (\`--large-keys\`), each request picking one of them
at random. The keys are written straight into the SQLite file in one
transaction, as copies of a key created over HTTP (scripts/bench/seed-large.ts):
creating them over HTTP would take most of an hour. Rows: just after start
(cold: nearly every request reads SQLite), a pass over every key in order (the
rate of cache misses), and warm, in two rounds interleaved with the main
table's verify scenario, which is the reference of the last column. The peak
RSS is the large-store server's over all of it.

Last, a cluster-mode table (scripts/bench/cluster.ts, docs/deployment.md):
verifyKey on one node and on two nodes of PostgreSQL + Redis against one SQLite
node, the cost of a cache miss on each engine, and credit spends on one hot
key. It uses the servers of \`LATCH_TEST_DATABASE_URL\` / \`LATCH_TEST_REDIS_URL\`,
else private ones from \`.ci/services\`, and says why it skipped itself when
PostgreSQL or Redis is not installed (\`--no-cluster\` leaves it out).
`

/** Appends a dated section with the table to `path`, creating the file with its header first. */
export async function appendToDocs(path: string, report: Report): Promise<void> {
  mkdirSync(dirname(path), { recursive: true })
  if (!existsSync(path)) await Bun.write(path, DOC_HEADER)
  const title = [report.date, report.commit, report.label].filter(Boolean).join(' · ')
  await appendFile(path, `\n## ${title}\n\n${formatTable(report)}\n`)
}
