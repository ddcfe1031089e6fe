// Benchmarks keys.verifyKey through the real app (app.handle, real SQLite file)
// and prints ratios against baselines measured in the same run, because these
// machines are noisy: absolute numbers mean little, ratios are comparable.
//
//   bun scripts/bench-verify.ts [--iterations N]
//
// Baseline: GET /v2/liveness (the cheapest route: routing + envelope + logging off).
// Measured: a warm verify (cache hit, credits decrement), and a cold verify
// (cache cleared before every call, i.e. the SQLite path) for comparison.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { openSqliteStores } from '../src/db/sqlite'
import { createServices } from '../src/services'

const args = process.argv.slice(2)
const iterations = Number(args[args.indexOf('--iterations') + 1]) || 20_000

const dir = mkdtempSync(join(tmpdir(), 'latch-bench-'))
const stores = openSqliteStores(join(dir, 'bench.db'))
const services = createServices({ stores })
const app = createApp(services, { log: null })
const root = (await services.rootKeys.create({ workspace: 'bench', name: 'bench', permissions: ['*'] })).key
const ws = (await services.workspaces.find('bench'))!.id
const api = await services.apis.create(ws, 'bench')
const { key } = await services.keys.create(ws, {
  apiId: api.id,
  permissions: ['read', 'write'],
  credits: { remaining: 1_000_000_000 },
  externalId: 'bench-user',
})

const post = (body: unknown) =>
  new Request('http://localhost/v2/keys.verifyKey', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
    body: JSON.stringify(body),
  })

async function measure(label: string, makeRequest: () => Request, before?: () => void): Promise<number> {
  for (let i = 0; i < 500; i++) {
    before?.()
    await app.handle(makeRequest())
  }
  const started = performance.now()
  for (let i = 0; i < iterations; i++) {
    before?.()
    const res = await app.handle(makeRequest())
    if (res.status !== 200) throw new Error(`${label}: status ${res.status}`)
  }
  const seconds = (performance.now() - started) / 1000
  const opsPerSecond = iterations / seconds
  console.log(`${label.padEnd(34)} ${Math.round(opsPerSecond).toString().padStart(9)} ops/s  ${((seconds / iterations) * 1e6).toFixed(1).padStart(7)} µs/op`)
  return opsPerSecond
}

const liveness = await measure('baseline: GET /v2/liveness', () => new Request('http://localhost/v2/liveness'))
const warm = await measure('verifyKey, warm (cache hit)', () => post({ key }))
const warmQuery = await measure('verifyKey, warm + permission query', () => post({ key, permissions: 'read AND (write OR admin)' }))
const cold = await measure(
  'verifyKey, cold (SQLite each call)',
  () => post({ key }),
  () => services.keyCache.clear(),
)

console.log()
console.log(`warm verify / liveness baseline:       ${(warm / liveness).toFixed(3)}`)
console.log(`warm verify+query / liveness baseline: ${(warmQuery / liveness).toFixed(3)}`)
console.log(`warm verify / cold verify (cache gain): ${(warm / cold).toFixed(2)}x`)

await services.flush()
stores.close()
rmSync(dir, { recursive: true, force: true })
