// Benchmarks analytics at volume: writes N verification events (default
// 1,000,000) into a temporary database through the real write path
// (VerificationLog → batch insert with its per-minute/hour/day/month rollups,
// one transaction per batch of 5,000, fdatasync included), then times a
// per-day query through analytics.getVerifications, over the day rollup and
// over the raw table. Prints a markdown block for docs/benchmarks.md.
//
//   bun scripts/bench-analytics.ts [--events N] [--runs R]
//
// The events: 30 days, 1,000 keys in 10 APIs, 200 customers, 90 % VALID, each
// key with its own two tag sets (so a day rollup row stands for ~8 events, and
// nearly every minute and hour row for one).
// A baseline writes the same rows into the raw table alone (same indexes, no
// rollups) to show what keeping the rollups costs.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { ManualClock } from '../src/clock'
import { openSqliteStores } from '../src/db/sqlite'
import type { VerificationEvent } from '../src/db/stores/analytics'
import { createServices } from '../src/services'

const args = process.argv.slice(2)
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback)
const total = flag('--events', 1_000_000)
const runs = flag('--runs', 7)
const BATCH = 5_000
const DAY = 86_400_000
const OUTCOMES = ['RATE_LIMITED', 'USAGE_EXCEEDED', 'DISABLED', 'INSUFFICIENT_PERMISSIONS']

const dir = mkdtempSync(join(tmpdir(), 'latch-bench-analytics-'))
const now = Date.UTC(2026, 5, 15, 12)
const clock = new ManualClock(now)

/** A well-mixed 32-bit hash of i (so key, outcome and tags vary independently). */
const mix = (i: number, salt: number) => {
  let x = Math.imul(i ^ salt, 0x9e3779b1)
  x ^= x >>> 15
  x = Math.imul(x, 0x85ebca77)
  return (x ^ (x >>> 13)) >>> 0
}

/** Event i of the data set, spread evenly over the 30 days before `now` (deterministic). */
function event(i: number, workspaceId: string): VerificationEvent {
  const key = mix(i, 1) % 1000
  const customer = key % 200
  const odd = mix(i, 2) % 100
  return {
    requestId: `req_${i}`,
    time: now - 30 * DAY + Math.floor((i / total) * 30 * DAY),
    workspaceId,
    apiId: `api_${key % 10}`,
    keyId: `key_${key}`,
    identityId: `id_${customer}`,
    externalId: `cust_${customer}`,
    outcome: odd < 90 ? 'VALID' : OUTCOMES[odd % OUTCOMES.length]!,
    tags: mix(i, 3) % 2 ? [`route=/v1/${key % 7}`] : [`route=/v1/${key % 7}`, 'env=prod'],
    creditsSpent: odd < 90 ? 1 : 0,
    latency: 0.2,
  }
}

const stores = openSqliteStores(join(dir, 'latch.db'))
const services = createServices({ stores, clock, tunables: { verificationEventBuffer: BATCH * 2 } })
const app = createApp(services, { log: null })
const root = (await services.rootKeys.create({ workspace: 'bench', name: 'bench', permissions: ['api.*.read_analytics'] })).key
const workspaceId = (await services.workspaces.find('bench'))!.id

// --- writing: the real path, batch by batch ---------------------------------------
// While a batch is written, a 1 ms ticker measures the longest time the event
// loop was held (what a cached verification arriving then would wait).
let lastTick = 0
let longestPause = 0
let writing = false
const ticker = setInterval(() => {
  const at = performance.now()
  if (writing) longestPause = Math.max(longestPause, at - lastTick)
  lastTick = at
}, 1)
let started = performance.now()
for (let i = 0; i < total; i++) {
  services.events.record(event(i, workspaceId))
  if ((i + 1) % BATCH === 0 || i === total - 1) {
    await Bun.sleep(2)
    writing = true
    lastTick = performance.now()
    await services.events.flush()
    writing = false
  }
}
const writeSeconds = (performance.now() - started) / 1000
clearInterval(ticker)
const count = (table: string) => (stores.db.query(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
const rollupRows = Object.fromEntries(['minute', 'hour', 'day', 'month'].map((g) => [g, count(`verification_rollups_per_${g}`)]))

// --- the baseline: the same rows, raw table only -----------------------------------
const baseline = openSqliteStores(join(dir, 'baseline.db'))
const insert = baseline.db.prepare(
  `INSERT INTO verification_events (request_id, time, workspace_id, api_id, key_id, identity_id, external_id, outcome, tags, credits_spent, latency)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
)
started = performance.now()
for (let from = 0; from < total; from += BATCH) {
  baseline.db.transaction(() => {
    for (let i = from; i < Math.min(total, from + BATCH); i++) {
      const e = event(i, workspaceId)
      insert.run(e.requestId, e.time, e.workspaceId, e.apiId, e.keyId, e.identityId, e.externalId, e.outcome, JSON.stringify(e.tags), e.creditsSpent, e.latency)
    }
  })()
}
const baselineSeconds = (performance.now() - started) / 1000
baseline.close()

// --- querying through the route ----------------------------------------------------
async function time(query: string): Promise<{ cold: number; median: number; rows: number }> {
  const once = async () => {
    const t = performance.now()
    const res = await app.handle(
      new Request('http://localhost/v2/analytics.getVerifications', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
        body: JSON.stringify({ query }),
      }),
    )
    const body = (await res.json()) as { data?: unknown[]; error?: unknown }
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(body)}`)
    return { ms: performance.now() - t, rows: body.data!.length }
  }
  const cold = await once()
  const samples: number[] = []
  for (let i = 0; i < runs; i++) samples.push((await once()).ms)
  samples.sort((a, b) => a - b)
  return { cold: cold.ms, median: samples[Math.floor(samples.length / 2)]!, rows: cold.rows }
}

const perDayRollup = await time(
  `SELECT time AS day, SUM(count) AS total, sumIf(count, outcome = 'VALID') AS valid FROM key_verifications_per_day_v1
   WHERE time >= toDate(now() - INTERVAL 30 DAY) GROUP BY day ORDER BY day`,
)
const perDayRaw = await time(
  `SELECT toStartOfDay(fromUnixTimestamp64Milli(time)) AS day, count() AS total, countIf(outcome = 'VALID') AS valid FROM key_verifications_v1
   WHERE time >= toUnixTimestamp64Milli(now64(3) - INTERVAL 30 DAY) GROUP BY day ORDER BY day`,
)
const perKeyRollup = await time(
  `SELECT key_id, SUM(count) AS uses FROM key_verifications_per_day_v1 WHERE time >= toDate(now() - INTERVAL 7 DAY) GROUP BY key_id ORDER BY uses DESC LIMIT 10`,
)
const size = (file: string) => (statSync(join(dir, file), { throwIfNoEntry: false })?.size ?? 0) / 2 ** 20

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (r: { cold: number; median: number; rows: number }) => `${r.median.toFixed(1)} ms (first: ${r.cold.toFixed(1)} ms), ${r.rows} rows`
console.log(`## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · analytics: ${fmt(total)} verification events

\`bun scripts/bench-analytics.ts --events ${total} --runs ${runs}\`: events over 30 days, 1,000 keys, 10 APIs, 200 customers, 90 % VALID.

| measure | figure |
|---|---|
| writing through VerificationLog (batches of ${fmt(BATCH)}, raw rows + 4 rollups, one transaction and fdatasync per batch) | ${fmt(total / writeSeconds)} events/s (${writeSeconds.toFixed(1)} s) |
| longest event-loop pause while writing (a batch is written 500 statements at a time) | ${longestPause.toFixed(1)} ms |
| baseline: the same rows into the raw table only, no rollups | ${fmt(total / baselineSeconds)} events/s (${baselineSeconds.toFixed(1)} s) |
| rollup rows (minute / hour / day / month) | ${fmt(rollupRows.minute!)} / ${fmt(rollupRows.hour!)} / ${fmt(rollupRows.day!)} / ${fmt(rollupRows.month!)} |
| per-day totals, 30 days, \`key_verifications_per_day_v1\`, through the route, median of ${runs} | ${ms(perDayRollup)} |
| per-day totals, 30 days, the raw \`key_verifications_v1\`, through the route, median of ${runs} | ${ms(perDayRaw)} |
| top 10 keys over 7 days, \`key_verifications_per_day_v1\`, median of ${runs} | ${ms(perKeyRollup)} |
| database | ${size('latch.db').toFixed(1)} MiB + ${size('latch.db-wal').toFixed(1)} MiB WAL |
`)

await services.flush()
stores.close()
rmSync(dir, { recursive: true, force: true })
