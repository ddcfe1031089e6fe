// `npm run bench`: latch's HTTP benchmark over real sockets. Builds (or reuses)
// dist/latch, serves a temporary database seeded over HTTP, loads it with wrk
// from another process, and reports every scenario as a ratio to a bare
// Bun.serve echo measured in the same run (see docs/benchmarks.md for the
// method). Only 127.0.0.1 is ever contacted, every load is bounded in time,
// and every server it starts is stopped before it exits.
//
//   npm run bench [-- --quick] [--keys N] [--duration S] [--connections C]
//                 [--log on|off|both] [--rebuild] [--binary PATH] [--label TEXT] [--no-append] [--no-cluster]
//                 [--large-keys N] [--no-large]
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { BUN, ensureBinary, ensureWrk, fileSize, startServer, timeToReady, type Server, type ServerSpec, type ThreadCpu } from './processes'
import { clusterSection } from './cluster'
import { largeSection, type LargeFigures } from './large'
import { appendToDocs, buildRows, formatTable, median, writeJson, type Report } from './report'
import { buildScenarios, preflight, type LogMode, type Scenario, type ServerName } from './scenarios'
import { seedKeys, seedRootKey } from './seed-keys'
import { runWrk, type Load, type WrkResult } from './wrk'

const ROOT = resolve(import.meta.dir, '..', '..')
const ROUNDS = 2
const LOW_CONNECTIONS = 8
const STARTS = 5
/** How long after a run its server's CPU time is read. */
const CPU_SETTLE_MS = 1_000

const USAGE = `usage: npm run bench -- [--quick] [--keys N] [--duration S] [--connections C] [--log on|off|both]
                        [--rebuild] [--binary PATH] [--label TEXT] [--no-append] [--no-cluster]
                        [--large-keys N] [--no-large]`

interface Options {
  keys: number
  seconds: number
  connections: number
  log: LogMode
  rebuild: boolean
  append: boolean
  /** Also measure cluster mode (scripts/bench/cluster.ts), when PostgreSQL and Redis are there. */
  cluster: boolean
  /** Also measure verifyKey over a store of `largeKeys` keys (scripts/bench/large.ts). */
  large: boolean
  largeKeys: number
  binary?: string
  label: string
}

function parseOptions(args: string[]): Options {
  const options: Options = {
    keys: 10_000,
    seconds: 5,
    connections: 64,
    log: 'both',
    rebuild: false,
    append: true,
    cluster: true,
    large: true,
    largeKeys: 1_000_000,
    label: '',
  }
  const quick = args.includes('--quick')
  if (quick) Object.assign(options, { keys: 1_000, seconds: 2, largeKeys: 50_000 })
  const positive = (flag: string, value: string | undefined) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) usage(`${flag} needs a positive integer, got ${value ?? 'nothing'}`)
    return n
  }
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!
    const value = args[i + 1]
    if (flag === '--quick') continue
    else if (flag === '--rebuild') options.rebuild = true
    else if (flag === '--no-append') options.append = false
    else if (flag === '--no-cluster') options.cluster = false
    else if (flag === '--no-large') options.large = false
    else if (flag === '--large-keys') (options.largeKeys = positive(flag, value)), i++
    else if (flag === '--keys') (options.keys = positive(flag, value)), i++
    else if (flag === '--duration') (options.seconds = positive(flag, value)), i++
    else if (flag === '--connections') (options.connections = positive(flag, value)), i++
    else if (flag === '--binary' && value) (options.binary = value), i++
    else if (flag === '--label' && value !== undefined) (options.label = value), i++
    else if (flag === '--log' && (value === 'on' || value === 'off' || value === 'both')) (options.log = value), i++
    else usage(`unknown or incomplete option ${flag}`)
  }
  if (options.keys < 4) usage('--keys must be at least 4 (one key per group)')
  return options
}

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`)
  process.exit(2)
}

async function output(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [text] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  return text.trim()
}

/**
 * The commit dist/latch was built from, as far as we know: HEAD's short hash,
 * marked when src/ has uncommitted changes. Empty for a --binary, whose source
 * HEAD says nothing about (its --label should say).
 */
async function commitOf(binary: string, head: string): Promise<string> {
  if (binary !== join(ROOT, 'dist', 'latch')) return ''
  const dirty = (await output(['git', 'status', '--porcelain', '--', 'src'])) !== ''
  return dirty ? `${head} (+ uncommitted src/ changes)` : head
}

const describe = (r: WrkResult) =>
  `${Math.round(r.rps).toLocaleString('en-US').padStart(8)} req/s  p50 ${(r.p50Us / 1000).toFixed(2)} ms  p99 ${(r.p99Us / 1000).toFixed(2)} ms`

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const binary = await ensureBinary(options)
  // Before the load: others may commit meanwhile.
  const head = (await output(['git', 'rev-parse', '--short', 'HEAD'])) || 'unknown'
  const commit = await commitOf(binary, head)
  const loadBefore = loadavg()[0]!
  const wrk = await ensureWrk()
  const dir = mkdtempSync(join(tmpdir(), 'latch-bench-'))
  const servers: Partial<Record<ServerName, Server>> = {}
  const stopAll = async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()))
    for (const name of Object.keys(servers) as ServerName[]) delete servers[name]
  }
  const interrupted = () => void stopAll().finally(() => process.exit(130))
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)

  const db = join(dir, 'latch.db')
  const logOffDb = join(dir, 'latch-log-off.db')
  const requestLog = join(dir, 'latch.log')
  const latchSpec = (name: string, file: string, log: boolean, out: string): ServerSpec => ({
    name,
    cmd: [binary, 'serve', '--port', '{port}', '--host', '127.0.0.1', '--db', file],
    env: { NODE_ENV: 'production', LATCH_DATA_DIR: dir, ...(log ? {} : { LATCH_LOG: 'off' }) },
    output: out,
    readyPath: '/v2/liveness',
    cwd: dir,
  })
  const bunSpec = (name: string, script: string): ServerSpec => ({
    name,
    cmd: [BUN, join(import.meta.dir, script), '--port', '{port}'],
    env: { NODE_ENV: 'production' },
    output: join(dir, `${name}.log`),
    readyPath: '/',
  })
  let ok = false
  try {
    console.log(`binary ${relative(process.cwd(), binary) || binary}; wrk ${wrk}; temporary directory ${dir}`)
    const rootKey = await seedRootKey(binary, db, dir)
    // Seed through a server of its own, so that both measured servers start from the same file.
    const seeder = await startServer(latchSpec('latch (seeding)', db, false, join(dir, 'seeding.log')))
    const seeded = await seedKeys(seeder.url, rootKey, options.keys, dir).finally(() => seeder.stop())
    console.log(`seeded ${options.keys} keys over HTTP in ${seeded.seconds.toFixed(1)} s`)
    if (options.log === 'both') copyFileSync(db, logOffDb)

    servers.latch = await startServer(latchSpec('latch', db, options.log !== 'off', options.log === 'off' ? join(dir, 'latch-off.log') : requestLog))
    if (options.log === 'both') servers.latchLogOff = await startServer(latchSpec('latch (log off)', logOffDb, false, join(dir, 'latch-off.log')))
    servers.echo = await startServer(bunSpec('echo', 'echo-server.ts'))
    servers.elysia = await startServer(bunSpec('elysia', 'elysia-reference.ts'))

    const scenarios = buildScenarios(seeded, options.log)
    const urlOf = (s: Scenario) => servers[s.server]!.url
    const load: Load = { connections: options.connections, seconds: options.seconds }
    const results = new Map<string, WrkResult[]>(scenarios.map((s) => [s.id, []]))
    const cpu = new Map<string, ThreadCpu[]>(scenarios.map((s) => [s.id, []]))
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of scenarios) {
        if (round === 1) {
          await preflight(urlOf(s), s, rootKey)
          await runWrk(wrk, urlOf(s), s, rootKey, { connections: options.connections, seconds: 1 }) // warm-up, not recorded
        }
        const server = servers[s.server]!
        const before = server.cpu()
        const r = await runWrk(wrk, urlOf(s), s, rootKey, load)
        // Read a moment after the load, so that work it left behind (an analytics batch being written) counts for it.
        await Bun.sleep(CPU_SETTLE_MS)
        const after = server.cpu()
        results.get(s.id)!.push(r)
        if (before && after)
          cpu.get(s.id)!.push({ mainUs: (after.mainUs - before.mainUs) / r.requests, otherUs: (after.otherUs - before.otherUs) / r.requests })
        console.log(`round ${round}  ${s.label.padEnd(40)} ${describe(r)}`)
      }
    }
    // p99 at low concurrency, bracketed by two baseline runs.
    const lowLoad: Load = { connections: LOW_CONNECTIONS, seconds: options.seconds }
    const low = new Map<string, WrkResult>()
    const baselineLow: WrkResult[] = []
    for (const s of [...scenarios, scenarios[0]!]) {
      const r = await runWrk(wrk, urlOf(s), s, rootKey, lowLoad)
      if (s === scenarios[0]) baselineLow.push(r)
      if (!low.has(s.id)) low.set(s.id, r)
      console.log(`@${LOW_CONNECTIONS}c     ${s.label.padEnd(40)} ${describe(r)}`)
    }

    // The large store, while the main server still runs: its 10,000-key scenario is measured again beside it.
    let large: LargeFigures | undefined
    if (options.large) {
      const reference = scenarios.find((s) => s.id === 'verify')!
      large = await largeSection({
        binary,
        dir,
        wrk,
        keys: options.largeKeys,
        load,
        spec: (name, file, out) => latchSpec(name, file, options.log !== 'off', out),
        reference: { url: urlOf(reference), scenario: reference, rootKey },
      })
    }

    const peakRssBytes = servers.latch!.peakRss()
    const logOffPeakRssBytes = servers.latchLogOff?.peakRss() ?? null
    const dbBytes = fileSize(db)
    const walBytes = fileSize(`${db}-wal`)
    await stopAll()
    const requestLogBytes = fileSize(requestLog)
    rmSync(requestLog, { force: true }) // can be gigabytes; its size is all we keep

    const startupMs: number[] = []
    for (let i = 0; i < STARTS; i++) {
      startupMs.push(await timeToReady(latchSpec('latch (start-up)', db, options.log !== 'off', join(dir, 'startup.log'))))
    }

    // Cluster mode last, on its own: nothing else of the benchmark runs meanwhile.
    const cluster = options.cluster ? await clusterSection(binary, options.seconds, Math.min(options.keys, 2_000)) : undefined

    const report: Report = {
      date: await output(['date', '-u', '+%Y-%m-%d %H:%M UTC']),
      commit,
      repositoryHead: head,
      label: options.label,
      binary: `${relative(ROOT, binary).startsWith('..') ? binary : relative(ROOT, binary)} (built ${statSync(binary).mtime.toISOString().slice(0, 16)}Z)`,
      settings: {
        keys: options.keys,
        seconds: options.seconds,
        connections: options.connections,
        lowConnections: LOW_CONNECTIONS,
        rounds: ROUNDS,
        log: options.log,
        threads: 1,
      },
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? 'unknown CPU',
        bun: Bun.version,
        wrk: (await output([wrk, '-v'])).split('\n')[0]!.replace(/ Copyright.*/, ''),
        loadAverage: [loadBefore, loadavg()[0]!],
      },
      seeding: { keys: seeded.keys, seconds: seeded.seconds },
      rows: buildRows(scenarios, results, low, (baselineLow[0]!.p99Us + baselineLow[1]!.p99Us) / 2, cpu),
      server: { peakRssBytes, logOffPeakRssBytes, dbBytes, walBytes, startupMs, startupMedianMs: median(startupMs), requestLogBytes },
      ...(large ? { large } : {}),
      ...(cluster ? { cluster } : {}),
    }
    console.log(`\n${formatTable(report)}\n`)
    const json = join(ROOT, 'dist', 'bench-results.json')
    await writeJson(json, report)
    console.log(`results: ${json}`)
    if (options.append) {
      const docs = join(ROOT, 'docs', 'benchmarks.md')
      await appendToDocs(docs, report)
      console.log(`appended to ${docs}`)
    }
    ok = true
  } finally {
    await stopAll()
    if (ok) rmSync(dir, { recursive: true, force: true })
    else if (existsSync(dir)) console.error(`server output kept in ${dir}`)
  }
}

try {
  await main()
} catch (error) {
  console.error(`bench failed: ${(error as Error).message}`)
  process.exitCode = 1
}
