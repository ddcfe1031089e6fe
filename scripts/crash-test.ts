// `npm run crash-test [-- --kills N --workers N --seed N --rebuild --binary path]`:
// is every acknowledged write durable across kill -9? Serves a temporary
// database with the compiled binary (dist/latch, built when missing) on
// 127.0.0.1, drives concurrent createKey / updateKey / verifyKey-with-credits
// load, SIGKILLs the server at a random moment, restarts it (the lock must
// never block) and checks, after every restart, that every acknowledged
// created key exists and verifies, every acknowledged update is there, and no
// key has more credits than its initial credits minus its acknowledged VALID
// answers. At the end, after a clean stop, every analytics rollup grain must
// count exactly the raw verification events (rollups held back by the writer
// thread when a kill came are rebuilt at the next start). Prints `kills
// survived`, `acknowledged writes lost`, `credits regained` and `rollups off`;
// exits 1 unless every restart worked and the last three are 0.
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureBinary } from './bench/processes'
import { type RunningBinary, runBinary, serveBinary } from './smoke'

const { values: flags } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    workers: { type: 'string', default: '16' },
    seed: { type: 'string' },
    binary: { type: 'string' },
    rebuild: { type: 'boolean', default: false },
  },
})
const KILLS = Number(flags.kills)
const WORKERS = Number(flags.workers)
if (!Number.isInteger(KILLS) || KILLS < 1 || KILLS > 1000 || !Number.isInteger(WORKERS) || WORKERS < 1 || WORKERS > 256) {
  console.error('usage: crash-test [--kills 1-1000] [--workers 1-256] [--seed N] [--binary path] [--rebuild]')
  process.exit(2)
}
const SEED = flags.seed !== undefined ? Number(flags.seed) : Math.floor(Math.random() * 2 ** 31)
const INITIAL_CREDITS = 1000
const MAX_KEYS = 100
/** Load runs this long (random within) before each kill. */
const LOAD_MS = [100, 1500] as const
const REQUEST_TIMEOUT_MS = 5_000

/** mulberry32: a seeded generator, so that a run can be repeated with --seed. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = random(SEED)
const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)]!

/** What the client knows was acknowledged about one key. */
interface Tracked {
  keyId: string
  key: string
  /** VALID answers received (each spent one credit). */
  spent: number
  /** Highest update version acknowledged (the key's name is `v<version>`), and highest sent. */
  ackedVersion: number
  sentVersion: number
  updating: boolean
  /** Largest excess of stored credits over what acknowledged spends leave, seen at any check. */
  regained: number
}

const keys: Tracked[] = []
const lost = new Set<string>()
const totals = { creates: 0, updates: 0, spends: 0, failedRequests: 0 }

/** A POST that resolves only when the whole answer arrived (that is the acknowledgement), or null. */
async function call(url: string, route: string, root: string, body: unknown): Promise<{ status: number; body: any } | null> {
  try {
    const res = await fetch(`${url}/v2/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    return { status: res.status, body: await res.json() }
  } catch {
    totals.failedRequests++
    return null
  }
}

async function createKey(url: string, root: string, apiId: string): Promise<void> {
  const r = await call(url, 'keys.createKey', root, { apiId, name: 'v0', credits: { remaining: INITIAL_CREDITS } })
  if (r?.status !== 200) return
  keys.push({ keyId: r.body.data.keyId, key: r.body.data.key, spent: 0, ackedVersion: 0, sentVersion: 0, updating: false, regained: 0 })
  totals.creates++
}

async function updateKey(url: string, root: string, tracked: Tracked): Promise<void> {
  tracked.updating = true // one update in flight per key, so acknowledgements arrive in version order
  const version = ++tracked.sentVersion
  try {
    const r = await call(url, 'keys.updateKey', root, { keyId: tracked.keyId, name: `v${version}` })
    if (r?.status === 200) {
      tracked.ackedVersion = version
      totals.updates++
    }
  } finally {
    tracked.updating = false
  }
}

/** Verifies once; a VALID answer is an acknowledged spend. Returns the code, or null without an answer. */
async function verify(url: string, root: string, tracked: Tracked): Promise<string | null> {
  const r = await call(url, 'keys.verifyKey', root, { key: tracked.key })
  if (r?.status !== 200) return null
  if (r.body.data.code === 'VALID') {
    tracked.spent++
    totals.spends++
  }
  return r.body.data.code
}

/** Concurrent load until `stopped()`; each worker ends at its next answer (or failure). */
async function load(url: string, root: string, apiId: string, stopped: () => boolean): Promise<void> {
  const worker = async () => {
    while (!stopped()) {
      const roll = rand()
      if (keys.length === 0 || (roll < 0.1 && keys.length < MAX_KEYS)) {
        await createKey(url, root, apiId)
        continue
      }
      // Half the load on ten hot keys: a crash then catches many spends of one key unwritten.
      const tracked = rand() < 0.5 ? pick(keys.slice(0, 10)) : pick(keys)
      // Every branch awaits a request, so workers always yield to each other.
      if (roll < 0.15 && !tracked.updating) await updateKey(url, root, tracked)
      else await verify(url, root, tracked)
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker))
}

/** After a restart: every acknowledged key exists, carries its last acknowledged update, regained no credit, and verifies. */
async function check(url: string, root: string): Promise<void> {
  const queue = [...keys]
  const checker = async () => {
    for (let tracked = queue.pop(); tracked; tracked = queue.pop()) {
      const got = await call(url, 'keys.getKey', root, { keyId: tracked.keyId })
      if (got === null) throw new Error(`keys.getKey ${tracked.keyId} got no answer from the restarted server`)
      if (got.status === 404) {
        lost.add(`create ${tracked.keyId}`)
        continue
      }
      const version = Number(/^v(\d+)$/.exec(got.body.data.name ?? '')?.[1] ?? -1)
      if (version < tracked.ackedVersion) lost.add(`update ${tracked.keyId} v${tracked.ackedVersion}`)
      const excess = got.body.data.credits.remaining - (INITIAL_CREDITS - tracked.spent)
      tracked.regained = Math.max(tracked.regained, excess)
      const code = await verify(url, root, tracked)
      if (code === null) throw new Error(`keys.verifyKey of ${tracked.keyId} got no answer from the restarted server`)
      if (code !== 'VALID' && code !== 'USAGE_EXCEEDED') lost.add(`verify ${tracked.keyId} (${code})`)
    }
  }
  await Promise.all(Array.from({ length: 8 }, checker))
}

const regainedTotal = () => keys.reduce((sum, k) => sum + Math.max(0, k.regained), 0)

/** Per rollup grain, how far its count of verifications is from the raw events (of a stopped server's file). */
function rollupsOff(path: string): string[] {
  const db = new Database(path, { readonly: true })
  try {
    const raw = (db.query('SELECT count(*) AS n FROM verification_events').get() as { n: number }).n
    const off = ['minute', 'hour', 'day', 'month'].flatMap((grain) => {
      const n = (db.query(`SELECT coalesce(sum(count), 0) AS n FROM verification_rollups_per_${grain}`).get() as { n: number }).n
      return n === raw ? [] : [`per ${grain}: ${n} of ${raw} verifications`]
    })
    const owed = (db.query('SELECT count(*) AS n FROM rollups_owed').get() as { n: number }).n
    return owed === 0 ? off : [...off, `${owed} ranges still owed after a clean stop`]
  } finally {
    db.close()
  }
}

async function main(): Promise<number> {
  const binary = await ensureBinary({ binary: flags.binary, rebuild: flags.rebuild ?? false })
  const dir = mkdtempSync(join(tmpdir(), 'latch-crash-'))
  const db = join(dir, 'latch.db')
  let server: RunningBinary | undefined
  let survived = 0
  let off: string[] = []
  try {
    console.log(`crash test: ${binary}, ${KILLS} kills, ${WORKERS} workers, seed ${SEED}, database ${db}`)
    const created = await runBinary(binary, ['root-keys', 'create', '--workspace', 'crash', '--name', 'load', '--permission', '*', '--json', '--db', db], dir)
    if (created.code !== 0) throw new Error(`root-keys create failed: ${created.stderr}`)
    const root: string = JSON.parse(created.stdout).key
    server = await serveBinary(binary, { cwd: dir, db })
    const api = await call(server.url, 'apis.createApi', root, { name: 'crash' })
    if (api?.status !== 200) throw new Error(`apis.createApi failed: ${JSON.stringify(api)}`)
    const apiId: string = api.body.data.apiId

    for (let round = 1; round <= KILLS; round++) {
      let stopped = false
      const running = load(server.url, root, apiId, () => stopped)
      await Bun.sleep(LOAD_MS[0] + rand() * (LOAD_MS[1] - LOAD_MS[0]))
      await server.stop('SIGKILL') // mid-load: requests in flight get no answer
      stopped = true
      await running
      try {
        server = await serveBinary(binary, { cwd: dir, db })
      } catch (error) {
        server = undefined
        console.log(`round ${round}: the server did not come back after kill -9: ${(error as Error).message}`)
        break
      }
      survived++
      await check(server.url, root)
      console.log(
        `round ${round}: ${keys.length} keys, ${totals.creates} creates, ${totals.updates} updates, ${totals.spends} spends acknowledged; lost ${lost.size}, regained ${regainedTotal()}`,
      )
    }
    if (server) {
      const code = await server.stop('SIGTERM')
      server = undefined
      if (code !== 0) throw new Error(`the server exited with ${code} on SIGTERM`)
      off = rollupsOff(db)
    }
  } finally {
    await server?.stop('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
  for (const what of [...lost].slice(0, 20)) console.log(`lost: ${what}`)
  console.log(`requests without an answer (killed in flight): ${totals.failedRequests}`)
  const regained = regainedTotal()
  console.log(`kills survived: ${survived}`)
  console.log(`acknowledged writes lost: ${lost.size}`)
  console.log(`credits regained: ${regained}`)
  for (const what of off) console.log(`rollups off: ${what}`)
  console.log(`rollups off: ${off.length}`)
  return survived === KILLS && lost.size === 0 && regained === 0 && off.length === 0 ? 0 : 1
}

try {
  process.exitCode = await main()
} catch (error) {
  console.error(`crash test failed: ${(error as Error).message}`)
  process.exitCode = 1
}
