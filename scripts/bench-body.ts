// Micro-benchmark of the RPC body reader (src/http/body.ts) against what it
// replaced, `await request.json()`, for the common small body (a 58-byte
// keys.verifyKey body) and a 98 KB one; plus the two ways of refusing
// `__proto__` keys (the text check + walk latch uses, and a JSON.parse reviver).
// Each figure is the best of three rounds (shared machines are noisy).
//
//   bun scripts/bench-body.ts [--iterations N]
//
// In-process requests measure the reader itself; the socket part times the
// parse inside a Bun.serve handler, where the body arrives from the network.
import { DEFAULT_TUNABLES } from '../src/config'
import { parseJsonText, readJsonBody } from '../src/http/body'

const args = process.argv.slice(2)
const iterations = Number(args[args.indexOf('--iterations') + 1]) || 200_000

const small = JSON.stringify({ key: 'sk_3ZbZ8mN2pQ7rT1vX9yB4cD6', apiId: 'api_1234567' })
const large = JSON.stringify({
  externalId: 'user',
  meta: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`field${i}`, { n: i, s: 'x'.repeat(20) }])),
})

/** Runs `round` (which returns ns/op) three times and prints the best. */
async function best(label: string, round: () => number | Promise<number>): Promise<void> {
  let ns = Number.POSITIVE_INFINITY
  for (let i = 0; i < 3; i++) ns = Math.min(ns, await round())
  console.log(`${label.padEnd(58)} ${ns.toFixed(0).padStart(8)} ns/op`)
}

function inProcess(body: string, count: number, parse: (r: Request) => Promise<unknown>): () => Promise<number> {
  // With the Content-Length a client sends (without one, the reader takes its counting path).
  const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
  const make = () => new Request('http://localhost/v2/keys.verifyKey', { method: 'POST', body, headers })
  return async () => {
    for (let i = 0; i < Math.min(count, 10_000); i++) await parse(make())
    const started = performance.now()
    for (let i = 0; i < count; i++) await parse(make())
    return ((performance.now() - started) * 1e6) / count
  }
}

function sync(count: number, op: () => unknown): () => number {
  return () => {
    for (let i = 0; i < Math.min(count, 10_000); i++) op()
    const started = performance.now()
    for (let i = 0; i < count; i++) op()
    return ((performance.now() - started) * 1e6) / count
  }
}

/** Parse time measured inside a real server, averaged over `count` sequential requests. */
function overSocket(body: string, count: number, parse: (r: Request) => Promise<unknown>): () => Promise<number> {
  return async () => {
    let total = 0
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(request) {
        const started = performance.now()
        await parse(request)
        total += performance.now() - started
        return new Response('{}')
      },
    })
    const url = `http://127.0.0.1:${server.port}/`
    for (let i = 0; i < 1000; i++) await (await fetch(url, { method: 'POST', body })).text()
    total = 0
    for (let i = 0; i < count; i++) await (await fetch(url, { method: 'POST', body })).text()
    await server.stop(true)
    return (total * 1e6) / count
  }
}

const latch = (r: Request) => readJsonBody(r, DEFAULT_TUNABLES)
const json = (r: Request) => r.json()
const depth = DEFAULT_TUNABLES.maxJsonDepth
const refuseProto = (key: string, value: unknown) => {
  if (key === '__proto__') throw new Error('__proto__')
  return value
}

console.log(`small body: ${small.length} bytes; large body: ${large.length} bytes`)
console.log('-- in-process Request (built inside the loop: the first line is that cost alone)')
await best(
  'new Request only',
  inProcess(small, iterations, async (r) => r),
)
await best('request.json(), small', inProcess(small, iterations, json))
await best('readJsonBody, small', inProcess(small, iterations, latch))
await best('request.json(), large', inProcess(large, iterations / 100, json))
await best('readJsonBody, large', inProcess(large, iterations / 100, latch))
console.log('-- over a socket (parse time inside the handler)')
await best('request.json(), small', overSocket(small, iterations / 20, json))
await best('readJsonBody, small', overSocket(small, iterations / 20, latch))
console.log('-- text checks alone (no I/O)')
await best(
  'JSON.parse, small',
  sync(iterations, () => JSON.parse(small)),
)
await best(
  'parseJsonText (depth scan + __proto__ check), small',
  sync(iterations, () => parseJsonText(small, depth)),
)
await best(
  'JSON.parse with a __proto__ reviver, small',
  sync(iterations, () => JSON.parse(small, refuseProto)),
)
await best(
  'JSON.parse, large',
  sync(iterations / 100, () => JSON.parse(large)),
)
await best(
  'parseJsonText (depth scan + __proto__ check), large',
  sync(iterations / 100, () => parseJsonText(large, depth)),
)
await best(
  'JSON.parse with a __proto__ reviver, large',
  sync(iterations / 100, () => JSON.parse(large, refuseProto)),
)
