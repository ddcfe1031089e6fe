// The cluster row of `npm run bench`: what cluster mode (PostgreSQL + Redis,
// docs/deployment.md) costs and gives on this machine.
//   - keys.verifyKey throughput (plain keys, warm caches) of one node and of two
//     nodes sharing the load, with the same wrk clients either way (two wrk
//     processes of half the connections each): the ratio says whether a second
//     node puts the second core to work. One SQLite node, loaded the same way,
//     is the reference.
//   - the cost of a cache miss: verifications of keys no node holds in memory
//     yet (each key once), PostgreSQL against SQLite, one at a time (latency)
//     and 64 at a time (throughput).
//   - credit spends on one hot key over two nodes: latch's group commit per key
//     (src/cluster/credits.ts) against one conditional UPDATE per spend.
// It needs LATCH_TEST_DATABASE_URL and LATCH_TEST_REDIS_URL (run.ts starts
// private servers through .ci/services when they are not set, and skips this
// row, saying why, when PostgreSQL or Redis is not installed). Everything runs
// over real sockets on 127.0.0.1 against the compiled binary.
//
//   bun scripts/bench/cluster.ts --binary dist/latch --seconds 5 --keys 2000 --out result.json
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { SQL } from 'bun'
import { cleanEnv, rpc } from '../smoke'
import { ensureWrk, type Server, type ServerSpec, startServer } from './processes'
import type { Scenario } from './scenarios'
import { runWrk, type WrkResult } from './wrk'

export interface ClusterFigures {
  /** verifyKey req/s, plain keys, warm caches. */
  verify: { sqlite: WrkResult; oneNode: WrkResult; twoNodes: WrkResult }
  /** Verifications of keys not yet in memory: p50/p99 one at a time (µs), and req/s 64 at a time. */
  miss: Record<'sqlite' | 'postgres', { p50Us: number; p99Us: number; rps: number }>
  /** Spends per second on one key, 2 nodes, 300 in flight. */
  spends: { groupCommit: number; conditionalUpdate: number }
  /** How the PostgreSQL server runs (e.g. fsync off under .ci/services). */
  postgres: string
}

interface Options {
  binary: string
  seconds: number
  keys: number
  out: string
}

function parse(args: string[]): Options {
  const value = (flag: string) => args[args.indexOf(flag) + 1]
  if (!args.includes('--binary') || !args.includes('--out'))
    throw new Error('usage: bun scripts/bench/cluster.ts --binary PATH --out FILE [--seconds S] [--keys N]')
  return { binary: resolve(value('--binary')!), out: value('--out')!, seconds: Number(value('--seconds') ?? 5), keys: Number(value('--keys') ?? 2000) }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** Runs `load` from two wrk processes at once (half the connections each), against one URL or two; the sum of both. */
async function twoClients(wrk: string, urls: [string, string], scenario: Scenario, rootKey: string, seconds: number, connections: number): Promise<WrkResult> {
  const load = { connections: connections / 2, seconds }
  const [x, y] = await Promise.all(urls.map((url) => runWrk(wrk, url, scenario, rootKey, load)))
  return {
    ...x!,
    requests: x!.requests + y!.requests,
    rps: x!.rps + y!.rps,
    p50Us: Math.max(x!.p50Us, y!.p50Us),
    p99Us: Math.max(x!.p99Us, y!.p99Us),
  }
}

/** Verifies each key once, in order (latency of a miss), then the next batch 64 at a time (throughput of misses). */
async function missCost(url: string, rootKey: string, keys: string[]): Promise<{ p50Us: number; p99Us: number; rps: number }> {
  const half = Math.floor(keys.length / 2)
  const latencies: number[] = []
  for (const key of keys.slice(0, half)) {
    const started = performance.now()
    const res = await rpc(url, '/v2/keys.verifyKey', { key }, rootKey)
    latencies.push((performance.now() - started) * 1000)
    if (res.body?.data?.code !== 'VALID') throw new Error(`cache-miss verification answered ${res.status} ${JSON.stringify(res.body)}`)
  }
  latencies.sort((a, b) => a - b)
  const rest = keys.slice(half)
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < rest.length; i = next++) await rpc(url, '/v2/keys.verifyKey', { key: rest[i] }, rootKey)
    }),
  )
  return { p50Us: percentile(latencies, 0.5), p99Us: percentile(latencies, 0.99), rps: rest.length / ((performance.now() - started) / 1000) }
}

/**
 * An API and `count` plain keys over HTTP (16 in flight), their plaintexts in a file for rpc.lua. A 503
 * (PostgreSQL gave up a transaction that raced another) is tried again, as a client would.
 */
async function seedPlainKeys(url: string, rootKey: string, count: number, file: string): Promise<{ apiId: string; keys: string[] }> {
  const call = async (route: string, body: unknown) => {
    for (let attempt = 1; ; attempt++) {
      const res = await rpc(url, `/v2/${route}`, body, rootKey)
      if (res.status === 200) return res.body.data
      if (res.status !== 503 || attempt === 10) throw new Error(`${route} answered ${res.status}: ${JSON.stringify(res.body)}`)
      await Bun.sleep(10 * attempt)
    }
  }
  const { apiId } = await call('apis.createApi', { name: 'bench' })
  const keys: string[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < count; i = next++) keys.push((await call('keys.createKey', { apiId })).key)
    }),
  )
  writeFileSync(file, `${keys.join('\n')}\n`)
  return { apiId, keys }
}

/** The development root key from `latch seed --json`, with the given environment (a SQLite file, or cluster mode). */
async function seedRootKey(binary: string, cwd: string, env: Record<string, string>, args: string[] = []): Promise<string> {
  const proc = Bun.spawn([binary, 'seed', '--json', ...args], { cwd, env: cleanEnv(env), stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`latch seed --json exited with ${code}: ${stderr}`)
  return JSON.parse(stdout).development.key
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2))
  const adminUrl = process.env.LATCH_TEST_DATABASE_URL
  const redisUrl = process.env.LATCH_TEST_REDIS_URL
  if (!adminUrl || !redisUrl) throw new Error('LATCH_TEST_DATABASE_URL and LATCH_TEST_REDIS_URL must be set (run through .ci/services)')
  const wrk = await ensureWrk()
  const dir = mkdtempSync(join(tmpdir(), 'latch-bench-cluster-'))
  const admin = new SQL(adminUrl, { max: 1 })
  const database = `latch_bench_${process.pid}`
  const servers: Server[] = []
  try {
    const [fsync] = await admin.unsafe<{ fsync: string }[]>('SHOW fsync')
    await admin.unsafe(`CREATE DATABASE ${database}`)
    const url = new URL(adminUrl)
    url.pathname = `/${database}`
    const cluster = { LATCH_DATABASE_URL: url.toString(), LATCH_REDIS_URL: redisUrl }
    const spec = (name: string, env: Record<string, string>, args: string[] = []): ServerSpec => ({
      name,
      cmd: [options.binary, 'serve', '--port', '{port}', '--host', '127.0.0.1', ...args],
      env: { NODE_ENV: 'production', LATCH_LOG: 'off', LATCH_DATA_DIR: dir, ...env },
      output: join(dir, `${name.replaceAll(' ', '-')}.log`),
      readyPath: '/v2/liveness',
      cwd: dir,
    })

    // Cluster mode: keys seeded over HTTP through node 1; the cache-miss keys are verified by node 2 only, once each.
    const rootKey = await seedRootKey(options.binary, dir, cluster)
    const one = await startServer(spec('node 1', cluster))
    servers.push(one)
    const seeded = await seedPlainKeys(one.url, rootKey, options.keys, join(dir, 'cluster-keys.txt'))
    const scenario: Scenario = {
      id: 'verify',
      label: 'keys.verifyKey (cluster)',
      server: 'latch',
      method: 'POST',
      path: '/v2/keys.verifyKey',
      auth: true,
      template: '{"key":"%s"}',
      source: `file:${join(dir, 'cluster-keys.txt')}`,
      expectStatus: 200,
    }
    const two = await startServer(spec('node 2', cluster))
    servers.push(two)
    const postgresMiss = await missCost(two.url, rootKey, seeded.keys)
    await twoClients(wrk, [one.url, one.url], scenario, rootKey, 1, 64) // warm-up: every key cached on node 1
    await twoClients(wrk, [two.url, two.url], scenario, rootKey, 1, 64) // and on node 2
    const oneNode = await twoClients(wrk, [one.url, one.url], scenario, rootKey, options.seconds, 64)
    const twoNodes = await twoClients(wrk, [one.url, two.url], scenario, rootKey, options.seconds, 64)

    // Credit spends on one key, 300 in flight over both nodes.
    const hot = await rpc(one.url, '/v2/keys.createKey', { apiId: seeded.apiId, credits: { remaining: 1_000_000 } }, rootKey)
    const spendsPerSecond = async (spend: (i: number) => Promise<unknown>) => {
      const total = 3_000
      let next = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: 300 }, async () => {
          for (let i = next++; i < total; i = next++) await spend(i)
        }),
      )
      return total / ((performance.now() - started) / 1000)
    }
    const groupCommit = await spendsPerSecond((i) => rpc([one, two][i % 2]!.url, '/v2/keys.verifyKey', { key: hot.body.data.key }, rootKey))
    // The alternative, measured on the same table from this process: one statement per spend, on two pools.
    const pools = [new SQL(url.toString(), { max: 10 }), new SQL(url.toString(), { max: 10 })]
    const conditionalUpdate = await spendsPerSecond((i) =>
      pools[i % 2]!.unsafe('UPDATE keys SET remaining = remaining - 1 WHERE id = $1 AND remaining >= 1 RETURNING remaining', [hot.body.data.keyId]),
    )
    await Promise.all(pools.map((p) => p.close()))
    for (const server of servers.splice(0)) await server.stop()

    // One SQLite node, seeded and loaded the same way.
    const db = join(dir, 'latch.db')
    const sqliteRoot = await seedRootKey(options.binary, dir, {}, ['--db', db])
    const sqlite = await startServer(spec('sqlite', {}, ['--db', db]))
    servers.push(sqlite)
    const sqliteSeeded = await seedPlainKeys(sqlite.url, sqliteRoot, options.keys, join(dir, 'sqlite-keys.txt'))
    await sqlite.stop()
    servers.pop()
    // Restarted: nothing in memory, like node 2 above.
    const cold = await startServer(spec('sqlite (cold)', {}, ['--db', db]))
    servers.push(cold)
    const sqliteMiss = await missCost(cold.url, sqliteRoot, sqliteSeeded.keys)
    const sqliteScenario = { ...scenario, source: `file:${join(dir, 'sqlite-keys.txt')}` }
    await twoClients(wrk, [cold.url, cold.url], sqliteScenario, sqliteRoot, 1, 64)
    const sqliteVerify = await twoClients(wrk, [cold.url, cold.url], sqliteScenario, sqliteRoot, options.seconds, 64)

    const figures: ClusterFigures = {
      verify: { sqlite: sqliteVerify, oneNode, twoNodes },
      miss: { sqlite: sqliteMiss, postgres: postgresMiss },
      spends: { groupCommit, conditionalUpdate },
      postgres: fsync?.fsync === 'off' ? 'PostgreSQL with fsync off (.ci/services)' : 'PostgreSQL with fsync on',
    }
    writeFileSync(options.out, JSON.stringify(figures))
  } finally {
    for (const server of servers) await server.stop()
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {})
    await admin.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const ROOT = join(import.meta.dir, '..', '..')

/**
 * The cluster section of the report (markdown), or a line saying why it was
 * skipped. Runs this script in its own process: directly when the test servers
 * are configured, else under .ci/services (private PostgreSQL and Redis) when
 * both are installed.
 */
export async function clusterSection(binary: string, seconds: number, keys: number): Promise<string> {
  const configured = Boolean(process.env.LATCH_TEST_DATABASE_URL && process.env.LATCH_TEST_REDIS_URL)
  const postgres = existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))
  const installed = postgres && Bun.which('redis-server') !== null
  if (!configured && !installed)
    return '- cluster mode: skipped (PostgreSQL and Redis are neither configured (LATCH_TEST_DATABASE_URL, LATCH_TEST_REDIS_URL) nor installed)'
  const out = join(mkdtempSync(join(tmpdir(), 'latch-bench-cluster-out-')), 'cluster.json')
  const script = [process.execPath, join(import.meta.dir, 'cluster.ts'), '--binary', binary, '--seconds', String(seconds), '--keys', String(keys), '--out', out]
  const cmd = configured ? script : ['bash', join(ROOT, '.ci', 'services'), ...script]
  console.log(`cluster row: ${configured ? 'configured servers' : 'private servers from .ci/services'}`)
  const code = await Bun.spawn(cmd, { cwd: ROOT, stdout: 'inherit', stderr: 'inherit', stdin: 'ignore' }).exited
  if (code !== 0) return `- cluster mode: failed (exit code ${code}; see the output above)`
  const figures = JSON.parse(await Bun.file(out).text()) as ClusterFigures
  rmSync(join(out, '..'), { recursive: true, force: true })
  return formatCluster(figures, keys)
}

/** The cluster figures as a markdown table with its notes. */
export function formatCluster(f: ClusterFigures, keys: number): string {
  const int = (n: number) => Math.round(n).toLocaleString('en-US')
  const ms = (us: number) => (us / 1000).toFixed(2)
  const x = (n: number) => `${n.toFixed(2)}×`
  const rows: string[][] = [
    ['keys.verifyKey, 1 SQLite node (reference)', int(f.verify.sqlite.rps), ms(f.verify.sqlite.p50Us), ms(f.verify.sqlite.p99Us), '1.00× (SQLite)'],
    [
      'keys.verifyKey, 1 cluster node',
      int(f.verify.oneNode.rps),
      ms(f.verify.oneNode.p50Us),
      ms(f.verify.oneNode.p99Us),
      `${x(f.verify.oneNode.rps / f.verify.sqlite.rps)} SQLite`,
    ],
    [
      'keys.verifyKey, 2 cluster nodes',
      int(f.verify.twoNodes.rps),
      ms(f.verify.twoNodes.p50Us),
      ms(f.verify.twoNodes.p99Us),
      `${x(f.verify.twoNodes.rps / f.verify.oneNode.rps)} 1 node`,
    ],
    ['cache miss, SQLite', int(f.miss.sqlite.rps), ms(f.miss.sqlite.p50Us), ms(f.miss.sqlite.p99Us), '1.00× (SQLite)'],
    [
      'cache miss, PostgreSQL',
      int(f.miss.postgres.rps),
      ms(f.miss.postgres.p50Us),
      ms(f.miss.postgres.p99Us),
      `${x(f.miss.postgres.p50Us / f.miss.sqlite.p50Us)} SQLite's p50`,
    ],
    ['credit spends, one key, 2 nodes: group commit per key', int(f.spends.groupCommit), '', '', '1.00×'],
    ['credit spends: one conditional UPDATE per spend', int(f.spends.conditionalUpdate), '', '', x(f.spends.conditionalUpdate / f.spends.groupCommit)],
  ]
  const header = ['cluster mode (PostgreSQL + Redis)', 'per s', 'p50 ms', 'p99 ms', 'ratio']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [
    `Cluster mode, ${f.postgres}: ${keys.toLocaleString('en-US')} plain keys; verifyKey loads come from two wrk processes of 32 connections ` +
      'each (against the one node, or one per node), caches warm. A cache miss is a verification of a key the node does not hold yet: ' +
      'p50/p99 one at a time, per s 64 at a time. Credit spends: 300 in flight on one key over two nodes (latch, over HTTP), against ' +
      'one `UPDATE … WHERE remaining >= 1 RETURNING` per spend on two pools (the statement alone, no HTTP).',
    '',
    line(header),
    rule,
    ...rows.map(line),
  ].join('\n')
}

if (import.meta.main) {
  try {
    await main()
  } catch (error) {
    console.error(`cluster bench failed: ${(error as Error).message}`)
    process.exitCode = 1
  }
}
