// Benchmarks the ratelimit engine on its own and ratelimit.limit / multiLimit
// through the real app, and prints ratios against baselines measured in the
// same run (absolute numbers on shared machines mean little; ratios compare).
//
//   bun scripts/bench-ratelimit.ts [--iterations N]
//
// Baselines: a plain Map counter increment (for the engine) and GET /v2/liveness
// (for the routes: routing + envelope, request logging off).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { systemClock } from '../src/clock'
import { openSqliteStores } from '../src/db/sqlite'
import { SlidingWindowLimiter, type LimitRequest } from '../src/modules/ratelimit/limiter'
import { createServices } from '../src/services'

const args = process.argv.slice(2)
const iterations = Number(args[args.indexOf('--iterations') + 1]) || 20_000
const engineIterations = iterations * 50

/** Runs `op` `count` times after a warm-up and prints and returns ops/s. */
async function rate(label: string, count: number, op: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(1000, count); i++) await op(i)
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const pending = op(i)
    if (pending instanceof Promise) await pending
  }
  const seconds = (performance.now() - started) / 1000
  const perSecond = count / seconds
  console.log(`${label.padEnd(44)} ${Math.round(perSecond).toString().padStart(10)} ops/s  ${((seconds / count) * 1e6).toFixed(2).padStart(8)} µs/op`)
  return perSecond
}

// --- the engine ---------------------------------------------------------------
const plain = new Map<string, number>()
const mapBaseline = await rate('baseline: Map counter increment', engineIterations, (i) => {
  const k = `ws:ns:user-${i & 1023}`
  plain.set(k, (plain.get(k) ?? 0) + 1)
})

const limiter = new SlidingWindowLimiter(systemClock)
const one = (identifier: string): LimitRequest[] => [{ bucket: 'ws:ns', identifier, limit: 1_000_000_000, duration: 60_000, cost: 1 }]
const hot = await rate('limiter.limit, 1 request, 1024 identifiers', engineIterations, (i) => limiter.limit(one(`user-${i & 1023}`)))
const distinct = await rate('limiter.limit, 1 request, all distinct', engineIterations, (i) => limiter.limit(one(`fresh-${i}`)))
const batch = Array.from({ length: 10 }, (_, j) => one(`batch-${j}`)[0]!)
const batched = await rate('limiter.limit, batch of 10', engineIterations / 10, () => limiter.limit(batch))
console.log(`  counters held after the distinct run: ${limiter.size}`)

// --- the routes ---------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'latch-bench-'))
const stores = openSqliteStores(join(dir, 'bench.db'))
const services = createServices({ stores })
const app = createApp(services, { log: null })
const root = (await services.rootKeys.create({ workspace: 'bench', name: 'bench', permissions: ['*'] })).key
const ws = (await services.workspaces.find('bench'))!.id

const post = (rpc: string, body: unknown) =>
  new Request(`http://localhost/v2/${rpc}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
    body: JSON.stringify(body),
  })
const handled = async (request: Request) => {
  const res = await app.handle(request)
  if (res.status !== 200) throw new Error(`${new URL(request.url).pathname}: status ${res.status} ${await res.text()}`)
}
const limitBody = (identifier: string) => ({ namespace: 'bench', identifier, limit: 1_000_000_000, duration: 60_000 })

await handled(post('ratelimit.limit', limitBody('warm-up'))) // creates the namespace
await services.ratelimit.limit(ws, [{ ...limitBody('x'), namespace: 'wild' }])
for (let i = 0; i < 100; i++) {
  await services.ratelimit.setOverride(ws, { namespace: 'wild', identifier: `tenant-${i}-*`, limit: 1_000_000_000, duration: 60_000 })
}

const liveness = await rate('baseline: GET /v2/liveness', iterations, () => handled(new Request('http://localhost/v2/liveness')))
const route = await rate('POST ratelimit.limit', iterations, (i) => handled(post('ratelimit.limit', limitBody(`user-${i & 1023}`))))
const routeWild = await rate('POST ratelimit.limit, 100 wildcard overrides', iterations, (i) =>
  handled(post('ratelimit.limit', { ...limitBody(`tenant-${i % 150}-user`), namespace: 'wild' })),
)
const multiBody = Array.from({ length: 10 }, (_, j) => limitBody(`multi-${j}`))
const multi = await rate('POST ratelimit.multiLimit, 10 checks', iterations / 2, () => handled(post('ratelimit.multiLimit', multiBody)))

console.log()
console.log(`limiter (1024 ids) / Map increment:          ${(hot / mapBaseline).toFixed(3)}`)
console.log(`limiter (distinct ids) / Map increment:      ${(distinct / mapBaseline).toFixed(3)}`)
console.log(`limiter batch of 10 / Map increment:         ${(batched / mapBaseline).toFixed(3)}`)
console.log(`ratelimit.limit / liveness:                  ${(route / liveness).toFixed(3)}`)
console.log(`ratelimit.limit + 100 wildcards / liveness:  ${(routeWild / liveness).toFixed(3)}`)
console.log(`ratelimit.multiLimit (10) / liveness:        ${(multi / liveness).toFixed(3)}`)

await services.flush()
stores.close()
rmSync(dir, { recursive: true, force: true })
