// Exact credits across nodes (src/cluster/credits.ts over keys.changeCredits
// in PostgreSQL): three in-process nodes with their own pools and caches spend
// one key at once. N credits give exactly N VALID answers, each answer reports
// the balance its own spend left and is in the database before it is given, a
// refill due everywhere at once happens once, and a management change of the
// balance loses no concurrent spend.
import { describe, expect, test } from 'bun:test'
import { hashKey } from '../../src/crypto'
import { HAVE_ENGINES, testRedisUrl } from './engines'
import { inProcessNodes, type Nodes } from './nodes'

const DAY = 86_400_000

describe.skipIf(!HAVE_ENGINES)('shared credits', () => {
  const startNodes = inProcessNodes()

  const remainingOf = async (c: Nodes, keyId: string) =>
    Number((await c.nodes[0]!.stores.engine.get<{ remaining: bigint }>('SELECT remaining FROM keys WHERE id = $1', [keyId]))!.remaining)

  /** Every node verifies the key once, so that each holds it in its cache (the spends below are then answered from memory up to the balance). */
  async function warmEverywhere(c: Nodes, key: string) {
    for (const node of c.nodes) {
      while (!node.services.keyCache.peek(c.workspaceId, hashKey(key))) await node.services.verifier.verify(c.auth, { key, credits: { cost: 0 } })
    }
  }

  test('300 concurrent verifications over three nodes spend 100 credits exactly: 100 VALID, each with its own balance', async () => {
    const c = await startNodes(3, testRedisUrl())
    const { keyId, key } = await c.nodes[0]!.services.keys.create(c.workspaceId, { apiId: c.apiId, credits: { remaining: 100 } })
    await warmEverywhere(c, key)
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => c.nodes[i % 3]!.services.verifier.verify(c.auth, { key })))
    const valid = results.filter((r) => r.code === 'VALID')
    expect(valid).toHaveLength(100)
    expect(results.filter((r) => r.code === 'USAGE_EXCEEDED')).toHaveLength(200)
    expect(valid.map((r) => r.credits).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(await remainingOf(c, keyId)).toBe(0)
  })

  test('an answer is given only once its spend is in the database', async () => {
    const c = await startNodes(2, testRedisUrl())
    const { keyId, key } = await c.nodes[0]!.services.keys.create(c.workspaceId, { apiId: c.apiId, credits: { remaining: 40 } })
    await warmEverywhere(c, key)
    const stored: [reported: number, stored: number][] = []
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const result = await c.nodes[i % 2]!.services.verifier.verify(c.auth, { key })
        stored.push([result.credits!, await remainingOf(c, keyId)])
      }),
    )
    for (const [reported, inDatabase] of stored) expect(inDatabase).toBeLessThanOrEqual(reported)
  })

  test('costs above one: a spend that does not fit is refused and takes nothing', async () => {
    const c = await startNodes(3, testRedisUrl())
    const { keyId, key } = await c.nodes[0]!.services.keys.create(c.workspaceId, { apiId: c.apiId, credits: { remaining: 100 } })
    await warmEverywhere(c, key)
    const costs = Array.from({ length: 60 }, (_, i) => 1 + (i % 4))
    const results = await Promise.all(costs.map((cost, i) => c.nodes[i % 3]!.services.verifier.verify(c.auth, { key, credits: { cost } })))
    const spent = results.reduce((sum, r, i) => sum + (r.code === 'VALID' ? costs[i]! : 0), 0)
    expect(await remainingOf(c, keyId)).toBe(100 - spent)
    // Whatever is left is less than the cheapest refused spend.
    const refused = costs.filter((_, i) => results[i]!.code === 'USAGE_EXCEEDED')
    expect(refused.length).toBeGreaterThan(0)
    expect(100 - spent).toBeLessThan(Math.min(...refused))
  })

  test('a refill due on every node at once happens once', async () => {
    const c = await startNodes(3, testRedisUrl())
    const { keyId, key } = await c.nodes[0]!.services.keys.create(c.workspaceId, {
      apiId: c.apiId,
      credits: { remaining: 0, refill: { interval: 'daily', amount: 50 } },
    })
    await warmEverywhere(c, key)
    // Last refilled two days ago: due now, on every node.
    await c.nodes[0]!.stores.engine.run('UPDATE keys SET last_refill_at = $1, created_at = $1 WHERE id = $2', [Date.now() - 2 * DAY, keyId])
    const results = await Promise.all(Array.from({ length: 90 }, (_, i) => c.nodes[i % 3]!.services.verifier.verify(c.auth, { key })))
    expect(results.filter((r) => r.code === 'VALID')).toHaveLength(50)
    expect(await remainingOf(c, keyId)).toBe(0)
    // The scheduled job on every node finds nothing more to do.
    for (const node of c.nodes) await node.services.credits.runRefills()
    expect(await remainingOf(c, keyId)).toBe(0)
  })

  test('keys.updateCredits (increment) on one node while others spend: no spend and no increment is lost', async () => {
    const c = await startNodes(3, testRedisUrl())
    const { keyId, key } = await c.nodes[0]!.services.keys.create(c.workspaceId, { apiId: c.apiId, credits: { remaining: 100 } })
    await warmEverywhere(c, key)
    const spends = Array.from({ length: 60 }, (_, i) => c.nodes[1 + (i % 2)]!.services.verifier.verify(c.auth, { key }))
    const increments = Array.from({ length: 5 }, () => c.nodes[0]!.services.keys.updateCredits(c.workspaceId, keyId, 'increment', 10))
    const [results] = await Promise.all([Promise.all(spends), Promise.all(increments)])
    expect(results.filter((r) => r.code === 'VALID')).toHaveLength(60)
    expect(await remainingOf(c, keyId)).toBe(100 + 50 - 60)
  })
})
