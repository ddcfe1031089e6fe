// Three processes of the compiled binary (dist/latch, `npm run build`) on
// loopback ports, serving one PostgreSQL database and sharing one Redis (the
// servers of .ci/services), driven over HTTP as a load balancer would:
//   - exact credits under 300 concurrent verifications spread over the nodes;
//   - a shared ratelimit admitting its limit (within 3 %) across all nodes;
//   - a key disabled or deleted through node A refused by B and C within 1 s;
//   - a node killed with SIGKILL while the others keep answering, restarted,
//     and consistent with them; nothing acknowledged lost.
// The nodes start together on an empty database (migrations under the
// advisory lock). Skipped without the servers or the binary.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { BINARY, cleanEnv, freePort, rpc } from '../../scripts/smoke'
import { postgresStores } from '../../src/db/postgres'
import { createServices } from '../../src/services'
import { createEmptyDatabase, databaseUrl, dropTestDatabase } from '../support/postgres'
import { HAVE_ENGINES, testRedisUrl } from './engines'

/** The documented bound on how long a node may keep answering from what a change made stale. */
const BOUND_MS = 1_000

interface NodeProcess {
  name: string
  url: string
  port: number
  proc: Subprocess
  output(): string
}

describe.skipIf(!HAVE_ENGINES || !existsSync(BINARY))('three nodes of the binary on one PostgreSQL and one Redis', () => {
  let database = ''
  const logs = mkdtempSync(join(tmpdir(), 'latch-cluster-logs-'))
  let rootKey = ''
  let apiId = ''
  const nodes: NodeProcess[] = []

  async function startNode(name: string, port: number): Promise<NodeProcess> {
    const log = join(logs, `${name}-${Date.now()}.log`)
    const proc = Bun.spawn([BINARY, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      env: cleanEnv({ LATCH_DATABASE_URL: databaseUrl(database), LATCH_REDIS_URL: testRedisUrl(), LATCH_LOG: 'off' }),
      stdin: 'ignore',
      stdout: Bun.file(log),
      stderr: Bun.file(log),
    })
    const output = () => readFileSync(log, 'utf8')
    const node = { name, url: `http://127.0.0.1:${port}`, port, proc, output }
    for (const until = Date.now() + 20_000; Date.now() < until; await Bun.sleep(50)) {
      if (proc.exitCode !== null) throw new Error(`node ${name} exited with ${proc.exitCode}:\n${output()}`)
      if (
        await fetch(`${node.url}/v2/liveness`).then(
          (r) => r.status === 200,
          () => false,
        )
      )
        return node
    }
    proc.kill('SIGKILL')
    throw new Error(`node ${name} did not start:\n${output()}`)
  }

  const call = (node: NodeProcess, route: string, body: unknown) => rpc(node.url, `/v2/${route}`, body, rootKey)
  const verify = (node: NodeProcess, key: string, extra: Record<string, unknown> = {}) => call(node, 'keys.verifyKey', { key, ...extra })

  async function createKey(through: NodeProcess, body: Record<string, unknown>): Promise<{ keyId: string; key: string }> {
    const created = await call(through, 'keys.createKey', { apiId, ...body })
    expect(created.status).toBe(200)
    return created.body.data
  }

  beforeAll(async () => {
    database = await createEmptyDatabase()
    const ports = await Promise.all([freePort(), freePort(), freePort()])
    nodes.push(...(await Promise.all(['A', 'B', 'C'].map((name, i) => startNode(name, ports[i]!)))))
    // The root key is made as an operator would, straight on the database (as `latch root-keys create` does).
    const stores = postgresStores(databaseUrl(database))
    const services = createServices({ stores })
    rootKey = (await services.rootKeys.create({ workspace: 'ws', name: 'root', permissions: ['*'] })).key
    await stores.close()
    const api = await call(nodes[0]!, 'apis.createApi', { name: 'main' })
    expect(api.status).toBe(200)
    apiId = api.body.data.apiId
  }, 60_000)

  afterAll(async () => {
    for (const node of nodes.splice(0)) {
      node.proc.kill('SIGKILL')
      await node.proc.exited
    }
    if (database) await dropTestDatabase(database)
    rmSync(logs, { recursive: true, force: true })
  })

  test('300 concurrent verifications spread over the nodes spend 100 credits exactly', async () => {
    const { keyId, key } = await createKey(nodes[0]!, { credits: { remaining: 100 } })
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => verify(nodes[i % 3]!, key)))
    expect(results.every((r) => r.status === 200)).toBe(true)
    const valid = results.filter((r) => r.body.data.code === 'VALID')
    expect(valid).toHaveLength(100)
    expect(results.filter((r) => r.body.data.code === 'USAGE_EXCEEDED')).toHaveLength(200)
    // Every VALID answer reported the balance its own spend left: 99 down to 0, each once.
    expect(valid.map((r) => r.body.data.credits).sort((x: number, y: number) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    for (const node of nodes) expect((await call(node, 'keys.getKey', { keyId })).body.data.credits.remaining).toBe(0)
  })

  test('a shared key ratelimit admits its limit across all nodes (within 3 %)', async () => {
    const limit = 200
    const { key } = await createKey(nodes[1]!, { ratelimits: [{ name: 'requests', limit, duration: 60_000, autoApply: true }] })
    const results = await Promise.all(Array.from({ length: 2 * limit }, (_, i) => verify(nodes[i % 3]!, key)))
    const valid = results.filter((r) => r.body.data.code === 'VALID').length
    expect(Math.abs(valid - limit)).toBeLessThanOrEqual(limit * 0.03)
    expect(results.filter((r) => r.body.data.code === 'RATE_LIMITED')).toHaveLength(2 * limit - valid)
  })

  test('ratelimit.limit over all nodes admits its limit (within 3 %)', async () => {
    const limit = 150
    const results = await Promise.all(
      Array.from({ length: 3 * limit }, (_, i) =>
        call(nodes[i % 3]!, 'ratelimit.limit', { namespace: 'cluster', identifier: 'user-1', limit, duration: 60_000 }),
      ),
    )
    expect(results.every((r) => r.status === 200)).toBe(true)
    const passed = results.filter((r) => r.body.data.success).length
    expect(Math.abs(passed - limit)).toBeLessThanOrEqual(limit * 0.03)
  })

  test.each([
    ['disabled', (keyId: string) => call(nodes[0]!, 'keys.updateKey', { keyId, enabled: false }), 'DISABLED'],
    ['deleted', (keyId: string) => call(nodes[0]!, 'keys.deleteKey', { keyId }), 'NOT_FOUND'],
  ] as const)('a key %s through node A is refused by nodes B and C within 1 s', async (_, change, code) => {
    const { keyId, key } = await createKey(nodes[0]!, {})
    // B and C have verified it, so they hold it in memory.
    for (const node of nodes) for (let i = 0; i < 3; i++) expect((await verify(node, key)).body.data.code).toBe('VALID')
    expect((await change(keyId)).status).toBe(200)
    const acknowledged = performance.now()
    for (const node of nodes.slice(1)) {
      let answer = (await verify(node, key)).body.data.code
      while (answer !== code && performance.now() - acknowledged < 5_000) answer = (await verify(node, key)).body.data.code
      expect(answer).toBe(code)
      expect(performance.now() - acknowledged).toBeLessThan(BOUND_MS)
    }
  })

  test('node B killed with SIGKILL under load: A and C keep answering, nothing acknowledged is lost, B restarts consistent', async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess]
    const credits = 2_000
    const { keyId, key } = await createKey(a, {
      credits: { remaining: credits },
      ratelimits: [{ name: 'burst', limit: 100_000, duration: 60_000, autoApply: true }],
    })
    let acknowledged = 0
    let answeredByOthersAfterKill = 0
    let killed = false
    // Four clients per node, each sending one verification after another until 1,200 have been tried.
    let tries = 0
    const client = async (node: NodeProcess) => {
      while (tries++ < 1_200) {
        const result = await verify(node, key).catch(() => null)
        // B's clients stop once B is gone (the load balancer would send their requests elsewhere).
        if (result === null && killed && node === b) return
        if (result?.status === 200 && result.body.data.code === 'VALID') {
          acknowledged++
          if (killed && node !== b) answeredByOthersAfterKill++
        }
      }
    }
    const load = Promise.all([a, b, c].flatMap((node) => Array.from({ length: 4 }, () => client(node))))
    while (acknowledged < 200) await Bun.sleep(5)
    // The last thing B acknowledged before it died is kept.
    const lastOnB = await createKey(b, { name: 'made-just-before-b-died' })
    b.proc.kill('SIGKILL')
    killed = true
    await b.proc.exited
    // A key created through A while B is down is there for everyone afterwards.
    const during = await createKey(a, { name: 'made-while-b-was-down' })
    await load
    expect(answeredByOthersAfterKill).toBeGreaterThan(0)

    const restarted = await startNode('B', b.port)
    nodes[1] = restarted
    // Every acknowledged spend is in the database; at most the requests B had in flight when it died (four) spent without an answer.
    const remaining = (await call(c, 'keys.getKey', { keyId })).body.data.credits.remaining as number
    expect(remaining).toBeLessThanOrEqual(credits - acknowledged)
    expect(remaining).toBeGreaterThanOrEqual(credits - acknowledged - 4)
    // Consistent: every node, the restarted one too, reports the same balance and the same ratelimit count.
    const answers = await Promise.all(nodes.map((node) => verify(node, key, { credits: { cost: 0 } })))
    for (const answer of answers) expect(answer.body.data.credits).toBe(remaining)
    const left = answers.map((answer) => answer.body.data.ratelimits[0].remaining as number)
    expect(Math.max(...left) - Math.min(...left)).toBeLessThanOrEqual(2)
    expect((await verify(restarted, during.key)).body.data.code).toBe('VALID')
    expect((await verify(c, lastOnB.key)).body.data.code).toBe('VALID')
  }, 60_000)
})
