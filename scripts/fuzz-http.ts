// `npm run fuzz`: hostile HTTP against the compiled binary (dist/latch) over
// real sockets. Seeds a temporary database, serves it on 127.0.0.1, creates
// APIs, keys, identities, roles and ratelimits over HTTP, then sends generated
// requests to every route of GET /openapi.json (and their /v1 twins): bodies
// from scripts/fuzz/generate.ts, sent with fetch, chunked, with broken
// headers, and a few that trickle in one byte a second. Passes when no answer
// is a 5xx, every answer of latch is in the envelope, liveness (asked every
// 100 ms meanwhile) never took over a second (a request held the request
// thread), the server is alive at the end and stops cleanly, and the database
// passes PRAGMA integrity_check.
//
// With --postgres the seeded database is copied (latch migrate-store) into a
// new database on the PostgreSQL server of LATCH_TEST_DATABASE_URL, and the
// binary serves it as a cluster node with the Redis of LATCH_TEST_REDIS_URL
// (both from .ci/services): PostgreSQL refuses some input SQLite keeps.
// With --deno the source runs under Deno (the pinned npm package, as `npm run
// start:deno` runs it) instead of the binary: node:sqlite and Deno.serve
// behave differently from bun:sqlite and Bun.serve in places.
//
//   bun scripts/fuzz-http.ts [--requests 100000] [--seconds 900] [--concurrency 32] [--seed 1] [--binary dist/latch | --deno] [--postgres]
import { SQL } from 'bun'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chunk, head, type RawResponse, rawRequest } from '../test/support/raw-http'
import { body as generateBody, type Known, Rng } from './fuzz/generate'
import { BINARY, check, type RunningBinary, rpc, runBinary, serveBinary } from './smoke'

const args = process.argv.slice(2)
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback)
const REQUESTS = Number(flag('requests', '100000'))
const SECONDS = Number(flag('seconds', '900'))
const CONCURRENCY = Number(flag('concurrency', '32'))
const SEED = Number(flag('seed', '1'))
const DENO = args.includes('--deno')
const POSTGRES = args.includes('--postgres')
if (DENO && POSTGRES) throw new Error('--deno and --postgres: latch on Deno does not run on PostgreSQL yet (README, Running on Deno)')
const binary = DENO ? denoCommand() : flag('binary', BINARY)
/** A liveness answer later than this means a request held the request thread. */
const STALL_MS = 1_000
/** latch's default bodyTimeoutMs: slow bodies must be answered by then (plus slack). */
const BODY_TIMEOUT_MS = 10_000

interface Route {
  path: string
  schema: unknown
}

/** A script that runs latch's source under Deno with the arguments it is given, standing in for the binary. */
function denoCommand(): string {
  const root = resolve(import.meta.dir, '..')
  const dir = mkdtempSync(join(tmpdir(), 'latch-fuzz-deno-'))
  const script = join(dir, 'latch-deno')
  writeFileSync(script, `#!/bin/sh\nexec "${join(root, 'node_modules', '.bin', 'deno')}" run --allow-all "${join(root, 'src', 'index.ts')}" "$@"\n`, {
    mode: 0o755,
  })
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  return script
}

interface Outcome {
  status: number
  headers: Record<string, string>
  text: string
}

const counts = {
  latch: new Map<number, number>(),
  bun: new Map<number, number>(),
  kinds: new Map<string, number>(),
  sent: 0,
  transportErrors: 0,
  refusedMidSend: 0,
}
const problems: string[] = []
const bump = (map: Map<number | string, number>, key: number | string) => map.set(key, (map.get(key) ?? 0) + 1)

function problem(what: string, context: string, outcome?: Outcome) {
  if (problems.length < 30) problems.push(`${what}\n      ${context}${outcome ? `\n      -> ${outcome.status} ${outcome.text.slice(0, 300)}` : ''}`)
  else problems.push(what)
}

/** Every answer < 500; an answer of latch (it carries X-Request-Id) in the envelope; Bun's own only where `bunMayAnswer`. */
function judge(outcome: Outcome, context: string, bunMayAnswer: boolean) {
  const { status, headers, text } = outcome
  if (status >= 500) problem(`status ${status}`, context, outcome)
  const requestId = headers['x-request-id']
  if (!requestId) {
    bump(counts.bun, status)
    if (!bunMayAnswer) problem('an answer without X-Request-Id (not from latch)', context, outcome)
    return
  }
  bump(counts.latch, status)
  let parsed: any
  try {
    parsed = JSON.parse(text)
  } catch {
    return problem('an answer of latch that is not JSON', context, outcome)
  }
  if (parsed?.meta?.requestId !== requestId) return problem('meta.requestId missing or not the X-Request-Id', context, outcome)
  if (status >= 300) {
    const e = parsed.error
    const ok =
      e &&
      typeof e.title === 'string' &&
      typeof e.detail === 'string' &&
      e.status === status &&
      typeof e.type === 'string' &&
      e.type.startsWith('https://') &&
      (status !== 400 || Array.isArray(e.errors))
    if (!ok) problem('error envelope incomplete', context, outcome)
  }
}

async function viaFetch(url: string, method: string, headers: Record<string, string>, text: string): Promise<Outcome> {
  const res = await fetch(url, { method, headers, body: method === 'GET' ? undefined : text })
  return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() }
}

const fromRaw = (res: RawResponse): Outcome => ({ status: res.status, headers: res.headers, text: res.body })

/** Setup over HTTP: the ids the generated bodies use, so that requests reach the handlers. */
async function createData(url: string, key: string): Promise<Known> {
  const call = async (path: string, body: unknown) => {
    const r = await rpc(url, `/v2/${path}`, body, key)
    check(r.status === 200, `setup ${path}: ${r.status}`, r.body)
    return r.body.data
  }
  const known: Known = { apiId: [], keyId: [], key: [], externalId: [], identity: [], permission: [], permissions: [], role: [], roles: [], roleId: [] }
  for (const slug of ['fuzz.read', 'fuzz.write', 'fuzz.admin']) {
    await call('permissions.createPermission', { name: slug, slug })
    known.permissions!.push(slug)
  }
  for (const name of ['fuzz-admin', 'fuzz-reader']) {
    known.roleId!.push((await call('permissions.createRole', { name, permissions: ['fuzz.read'] })).roleId)
    known.roles!.push(name)
  }
  known.permission = [...known.permissions!]
  known.role = [...known.roles!]
  for (let i = 0; i < 3; i++) known.apiId!.push((await call('apis.createApi', { name: `fuzz-api-${i}` })).apiId)
  for (let i = 0; i < 12; i++) {
    const externalId = `fuzz-user-${i % 4}`
    const created = await call('keys.createKey', {
      apiId: known.apiId![i % 3],
      externalId,
      ...(i % 2 ? { credits: { remaining: 1000, refill: { interval: 'daily', amount: 1000 } } } : {}),
      ...(i % 3 ? { ratelimits: [{ name: 'fuzz-rl', limit: 50, duration: 1000, autoApply: true }] } : {}),
      roles: ['fuzz-reader'],
    })
    known.keyId!.push(created.keyId)
    known.key!.push(created.key)
    known.externalId!.push(externalId)
  }
  known.identity = [...new Set(known.externalId)]
  await call('ratelimit.limit', { namespace: 'fuzz-ns', identifier: 'fuzz-user-1', limit: 10, duration: 1000 })
  await call('ratelimit.setOverride', { namespace: 'fuzz-ns', identifier: 'fuzz-*', limit: 5, duration: 1000 })
  return { ...known, namespace: ['fuzz-ns'], identifier: ['fuzz-user-1', 'fuzz-x'], name: ['fuzz-rl', 'fuzz-admin'], slug: ['fuzz.new'] }
}

/**
 * Asks for liveness every 100 ms while the fuzz runs and returns the times of those answered later
 * than STALL_MS: a request that held the request thread holds liveness too. (An answer's own
 * duration would not tell: a credit spend waits for a disk sync, an analytics query for its child
 * process, and neither holds the thread.)
 */
async function probeLiveness(url: string, probing: { on: boolean }): Promise<number[]> {
  const stalls: number[] = []
  while (probing.on) {
    const started = performance.now()
    await fetch(`${url}/v2/liveness`).then(
      (r) => r.arrayBuffer(),
      () => {},
    )
    const took = performance.now() - started
    if (took > STALL_MS) stalls.push(took)
    await Bun.sleep(100)
  }
  return stalls
}

/** A new PostgreSQL database holding a copy of `db` (latch migrate-store), and the serve flags of a node on it. */
async function copyToPostgres(dir: string, db: string): Promise<{ flags: string[]; drop: () => Promise<void> }> {
  const adminUrl = process.env.LATCH_TEST_DATABASE_URL
  const redisUrl = process.env.LATCH_TEST_REDIS_URL
  check(!!adminUrl && !!redisUrl, '--postgres needs LATCH_TEST_DATABASE_URL and LATCH_TEST_REDIS_URL: run it through .ci/services')
  const name = `latch_fuzz_${process.pid}`
  const admin = new SQL(adminUrl!, { max: 1 })
  const drop = async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.close()
  }
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`)
    const url = new URL(adminUrl!)
    url.pathname = `/${name}`
    const copied = await runBinary(binary, ['migrate-store', '--from', db, '--to', url.toString()], dir)
    check(copied.code === 0, 'latch migrate-store failed', copied.stderr)
    // Every node of a cluster is given the master key (none is made for it): without one a PostgreSQL
    // node answers recoverable keys with 412, and sealing and opening them would go unfuzzed.
    const masterKey = join(dir, 'master.key')
    writeFileSync(masterKey, `${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}\n`, { mode: 0o600 })
    return { flags: ['--database-url', url.toString(), '--redis-url', redisUrl!, '--master-key-file', masterKey], drop }
  } catch (error) {
    await drop()
    throw error
  }
}

/** One generated request, sent with fetch or a raw socket. */
async function send(i: number, base: string, port: number, routes: Route[], known: Known, keys: string[]): Promise<void> {
  const r = new Rng(SEED * 1_000_003 + i)
  const route = r.pick(routes)
  const path = r.chance(0.2) ? route.path.replace('/v2/', '/v1/') : route.path
  const generated = generateBody(route.schema, known, r)
  bump(counts.kinds, generated.kind)
  const auth = r.chance(0.9)
    ? `Bearer ${r.pick(keys)}`
    : r.pick(['', 'Bearer', 'Bearer unkey_nope', 'Basic dXNlcjpwdw==', `Bearer ${'k'.repeat(9000)}`, 'bearer  a b'])
  const contentType = r.chance(0.9) ? 'application/json' : r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''])
  const headers: Record<string, string> = {}
  if (auth) headers.authorization = auth
  if (contentType) headers['content-type'] = contentType
  const context = `#${i} ${generated.kind} ${path} ${generated.text.slice(0, 160)}`
  const transport = r.int(100)
  try {
    if (transport < 84) {
      const method = r.chance(0.01) ? r.pick(['GET', 'PUT', 'DELETE']) : 'POST'
      const target = r.chance(0.005) ? `${path}x?q=1` : path
      try {
        return judge(await viaFetch(base + target, method, headers, generated.text), `${method} ${context}`, false)
      } catch (error) {
        // A body over the limit may be refused (413, connection closed) while it is still being sent.
        if (generated.text.length > 2_000_000) return void counts.refusedMidSend++
        throw error
      }
    }
    const bytes = Buffer.from(generated.text)
    if (transport < 92) {
      const parts: Buffer[] = []
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + r.int(Math.max(1, bytes.length / 3))
        parts.push(chunk(bytes.subarray(at, at + size)))
        at += size
      }
      parts.push(chunk(''))
      const res = await rawRequest(port, head(path, { ...headers, 'transfer-encoding': 'chunked' }), [Buffer.concat(parts)])
      return judge(fromRaw(res), `chunked ${context}`, false)
    }
    const broken: Record<string, string> = r.pick<Record<string, string>>([
      { 'content-length': 'abc' },
      { 'content-length': '-1' },
      { 'content-length': String(bytes.length + 0.5) },
      { 'content-length': String(Math.max(0, bytes.length - 3)) },
      { 'content-length': `${bytes.length}, ${bytes.length}` },
      { 'content-length': String(bytes.length), 'transfer-encoding': 'chunked' },
      { 'content-length': String(bytes.length), authorization: 'Bearer \u00ff\u00fe' },
      { 'content-length': String(bytes.length), authorization: `Bearer ${r.pick(keys)}\tx` },
      { 'content-length': String(bytes.length), 'x-long': 'h'.repeat(20_000) },
      { 'content-length': '99999999999999999999' },
    ])
    const res = await rawRequest(port, head(path, { ...headers, ...broken }), [bytes], { timeoutMs: BODY_TIMEOUT_MS + 5000 })
    if (res.status === 0) return void counts.transportErrors++
    return judge(fromRaw(res), `broken headers ${JSON.stringify(broken).slice(0, 80)} ${context}`, true)
  } catch (error) {
    counts.transportErrors++
    problem(`transport error: ${(error as Error).message}`, context)
  } finally {
    counts.sent++
  }
}

/**
 * Headers, then one byte a second: 408 within the body deadline with a key,
 * then the connection closed; 401 at once without (the small body is left for
 * the server to skip, so the connection is not closed for it).
 */
async function slowBody(port: number, key: string | null, routes: Route[], n: number): Promise<void> {
  const text = '{"name":"a body sent one byte a second"}'
  const headers: Record<string, string> = { 'content-length': String(text.length), ...(key ? { authorization: `Bearer ${key}` } : {}) }
  const rpcs = routes.filter((r) => r.schema)
  const path = rpcs[n % rpcs.length]!.path
  const res = await rawRequest(port, head(path, headers), text.split(''), { gapMs: 1000, closeOnAnswer: !key, timeoutMs: BODY_TIMEOUT_MS + 10_000 })
  const context = `slow body #${n} ${key ? 'with' : 'without'} a key ${path}`
  judge(fromRaw(res), context, false)
  const expected = key ? 408 : 401
  const deadline = key ? BODY_TIMEOUT_MS + 2000 : 1000
  if (res.status !== expected || res.respondedMs > deadline) problem(`slow body: expected ${expected} within ${deadline} ms`, context, fromRaw(res))
  // Deno.serve keeps such a connection until the client stops sending (the README's table of runtime differences).
  if (key && !DENO && (!res.serverClosed || res.closedMs > deadline + 1000)) problem('slow body: the connection was not closed after the answer', context)
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'latch-fuzz-'))
  const db = join(dir, 'latch.db')
  let server: RunningBinary | undefined
  let store: Awaited<ReturnType<typeof copyToPostgres>> | undefined
  try {
    const seeded = await runBinary(binary, ['seed', '--json', '--db', db], dir)
    check(seeded.code === 0, `latch seed failed (${seeded.code})`, seeded.stderr)
    const seeds = JSON.parse(seeded.stdout)
    const limited = await runBinary(
      binary,
      ['root-keys', 'create', '--workspace', 'development', '--name', 'fuzz verify', '--permission', 'api.*.verify_key', '--json', '--db', db],
      dir,
    )
    check(limited.code === 0, 'root-keys create failed', limited.stderr)
    if (POSTGRES) store = await copyToPostgres(dir, db)
    server = await serveBinary(binary, { cwd: dir, db, store: store?.flags })
    const port = Number(new URL(server.url).port)
    const main = seeds.development.key as string
    const keys = [main, main, main, main, JSON.parse(limited.stdout).key, seeds.production.key]
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> }
    const routes: Route[] = Object.entries(spec.paths).flatMap(([path, ops]) =>
      ops.post ? [{ path, schema: ops.post.requestBody?.content?.['application/json']?.schema }] : [{ path, schema: undefined }],
    )
    check(routes.length >= 30, `only ${routes.length} routes in /openapi.json`)
    const known = await createData(server.url, main)
    console.log(`fuzzing ${binary}: ${routes.length} routes (and their /v1 twins), ${REQUESTS} requests, ${CONCURRENCY} at once, seed ${SEED}`)

    const started = performance.now()
    const deadline = started + SECONDS * 1000
    const slowCount = Math.max(2, Math.round(REQUESTS / 12_500))
    const slow = Array.from({ length: slowCount }, (_, n) => slowBody(port, n % 2 ? null : main, routes, n))
    let next = 0
    const worker = async () => {
      while (next < REQUESTS && performance.now() < deadline) await send(next++, server!.url, port, routes, known, keys)
    }
    const progress = setInterval(() => console.log(`  ${counts.sent} sent, ${problems.length} problems`), 10_000)
    const probing = { on: true }
    const probe = probeLiveness(server.url, probing)
    await Promise.all([...Array.from({ length: CONCURRENCY }, worker), ...slow])
    probing.on = false
    const stalls = await probe
    clearInterval(progress)
    const seconds = (performance.now() - started) / 1000

    const live = await fetch(`${server.url}/v2/liveness`).then(
      (r) => r.status,
      () => 0,
    )
    const lines = server.output().split('\n')
    const errorLines = lines.filter((l) => l.includes('"level":"error"'))
    for (const line of errorLines.slice(0, 5)) problem('the server logged an error', line)
    for (const stall of stalls.slice(0, 5)) problem(`the server stalled: GET /v2/liveness took ${stall.toFixed(0)} ms`, 'a request held the request thread')
    const exit = await server.stop('SIGTERM', 10_000)
    server = undefined
    // PostgreSQL checks its own pages.
    let integrity = 'ok'
    if (!store) {
      const sqlite = new Database(db, { readonly: true })
      integrity = (sqlite.query('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check
      sqlite.close()
    }
    if (live !== 200) problem(`the server is not alive at the end (liveness ${live})`, '')
    if (exit !== 0) problem(`the server did not stop cleanly on SIGTERM (exit ${exit})`, '')
    if (integrity !== 'ok') problem(`PRAGMA integrity_check: ${integrity}`, '')

    const list = (m: Map<number | string, number>) =>
      [...m.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}:${v}`)
        .join(' ')
    const fivexx = [...counts.latch, ...counts.bun].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0)
    console.log(`bodies: ${list(counts.kinds)}`)
    for (const p of problems.slice(0, 30)) console.log(`PROBLEM ${p}`)
    console.log(
      `fuzz: ${counts.sent} requests + ${slowCount} slow bodies in ${seconds.toFixed(1)} s (${Math.round(counts.sent / seconds)}/s, ${CONCURRENCY} at once, seed ${SEED}) | ` +
        `latch ${list(counts.latch)} | bun ${list(counts.bun) || '-'} | 5xx ${fivexx} | refused mid-send ${counts.refusedMidSend} | ` +
        `transport errors ${counts.transportErrors} | problems ${problems.length} | alive ${live === 200 ? 'yes' : 'NO'} | stop exit ${exit} | integrity ${integrity}`,
    )
    return problems.length === 0 && counts.sent >= Math.min(REQUESTS, 1) ? 0 : 1
  } finally {
    await server?.stop('SIGKILL')
    await store?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

process.exitCode = await main()
