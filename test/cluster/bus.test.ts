// The change bus and the caches it keeps in step (src/cluster/bus.ts,
// caches.ts, transactions.ts), with in-process nodes over a real PostgreSQL
// and a private redis-server that the tests stop, freeze and restart:
//   - every change that can alter a verification, made on one node, reaches
//     the caches of the others (each node has verified, and so cached, first);
//   - announcements made inside a transaction go out only once it commits;
//   - Redis frozen (the subscription silently dead): caches expire within the
//     documented bound, and a change no message announced is seen in time;
//   - Redis killed: changes are refused (503, nothing written), verifications
//     of cached keys without credits or ratelimits go on, ratelimits fail
//     closed, credits still spend exactly (PostgreSQL);
//   - Redis back: the bus is live again, caches are emptied once and then kept.
import { describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import { HEARTBEAT_MS, LIVE_WINDOW_MS } from '../../src/cluster/bus'
import { hashKey } from '../../src/crypto'
import { EXPIRY_WHILE_LOST_MS } from '../../src/cluster/caches'
import { ApiError } from '../../src/errors'
import { eventually, HAVE_ENGINES, privateRedis } from './engines'
import { inProcessNodes, type Node, type Nodes } from './nodes'

/** The documented bound: a change acknowledged at T is seen by every node by T + 1 s. */
const BOUND_MS = 1_000

describe.skipIf(!HAVE_ENGINES)('change bus', () => {
  const redis = privateRedis()
  const startNodes = inProcessNodes()

  const verify = (c: Nodes, node: Node, key: string, extra: Record<string, unknown> = {}) => node.services.verifier.verify(c.auth, { key, ...extra })
  const newKey = async (c: Nodes, extra: Record<string, unknown> = {}) => c.nodes[0]!.services.keys.create(c.workspaceId, { apiId: c.apiId, ...extra })

  /** Verifies `key` on `node` until the answer comes from its cache (a load that raced a change is not kept); returns that answer. */
  async function warm(c: Nodes, node: Node, key: string, extra: Record<string, unknown> = {}) {
    for (;;) {
      const result = await verify(c, node, key, extra)
      if (node.services.keyCache.peek(c.workspaceId, hashKey(key))) return result
    }
  }

  /** Waits until `node` answers `code` for `key`; how long that took after `since`. */
  async function msUntil(c: Nodes, node: Node, key: string, code: string, since: number, extra: Record<string, unknown> = {}): Promise<number> {
    const seen = await eventually(async () => (await verify(c, node, key, extra)).code === code, 5_000)
    expect(seen).toBe(true)
    return performance.now() - since
  }

  test('the bound follows from the constants: a silent loss is noticed, and caches then expire, well within it', () => {
    // Noticed within the window plus one heartbeat tick of the last heartbeat heard back (caches emptied then),
    // and emptied again every EXPIRY_WHILE_LOST_MS; at least 200 ms are left for a busy event loop.
    expect(Math.max(LIVE_WINDOW_MS + HEARTBEAT_MS, EXPIRY_WHILE_LOST_MS) + 200).toBeLessThanOrEqual(BOUND_MS)
  })

  test.each([
    ['disabled', (c: Nodes, keyId: string) => c.nodes[0]!.services.keys.update(c.workspaceId, { keyId, enabled: false }), 'DISABLED'],
    ['deleted', (c: Nodes, keyId: string) => c.nodes[0]!.services.keys.delete(c.workspaceId, keyId, false), 'NOT_FOUND'],
    ['rerolled with no grace', (c: Nodes, keyId: string) => c.nodes[0]!.services.keys.reroll(c.workspaceId, keyId, 0), 'EXPIRED'],
    ['its API deleted', (c: Nodes) => c.nodes[0]!.services.apis.delete(c.workspaceId, c.apiId), 'NOT_FOUND'],
    ['its credits set to zero', (c: Nodes, keyId: string) => c.nodes[0]!.services.keys.updateCredits(c.workspaceId, keyId, 'set', 0), 'USAGE_EXCEEDED'],
  ] as const)('a key %s through node A is refused by nodes B and C', async (_, change, code) => {
    const c = await startNodes(3, (await redis()).url)
    const { keyId, key } = await newKey(c, { credits: { remaining: 1000 } })
    for (const node of c.nodes) expect((await warm(c, node, key)).code).toBe('VALID')
    await change(c, keyId)
    const acknowledged = performance.now()
    for (const node of c.nodes.slice(1)) expect(await msUntil(c, node, key, code, acknowledged)).toBeLessThan(BOUND_MS)
  })

  test('permissions and roles changed through node A are what node B checks', async () => {
    const c = await startNodes(2, (await redis()).url)
    const [a, b] = c.nodes as [Node, Node]
    const { keyId, key } = await newKey(c, { permissions: ['docs.read'] })
    expect((await warm(c, b, key, { permissions: 'docs.read' })).code).toBe('VALID')
    await a.services.keyAccess.removePermissions(c.workspaceId, keyId, ['docs.read'])
    expect(await msUntil(c, b, key, 'INSUFFICIENT_PERMISSIONS', performance.now(), { permissions: 'docs.read' })).toBeLessThan(BOUND_MS)
    // A role's permissions change the whole workspace's keys.
    await a.services.permissions.createRole(c.workspaceId, { name: 'reader', permissions: ['docs.read'] })
    await a.services.keyAccess.addRoles(c.workspaceId, keyId, ['reader'])
    expect(await msUntil(c, b, key, 'VALID', performance.now(), { permissions: 'docs.read' })).toBeLessThan(BOUND_MS)
    await a.services.permissions.setRolePermissions(c.workspaceId, 'reader', [])
    expect(await msUntil(c, b, key, 'INSUFFICIENT_PERMISSIONS', performance.now(), { permissions: 'docs.read' })).toBeLessThan(BOUND_MS)
  })

  test('an identity changed through node A changes what node B reports', async () => {
    const c = await startNodes(2, (await redis()).url)
    const [a, b] = c.nodes as [Node, Node]
    const { key } = await newKey(c, { externalId: 'customer-1' })
    expect((await warm(c, b, key)).identity).toMatchObject({ externalId: 'customer-1' })
    await a.services.identities.update(c.workspaceId, 'customer-1', { meta: { plan: 'pro' } })
    expect(await eventually(async () => JSON.stringify((await verify(c, b, key)).identity?.meta) === '{"plan":"pro"}', BOUND_MS)).toBe(true)
  })

  test('a root key revoked through node A stops authenticating on node B', async () => {
    const c = await startNodes(2, (await redis()).url)
    const [a, b] = c.nodes as [Node, Node]
    const made = await a.services.rootKeys.create({ workspace: 'ws', name: 'ops', permissions: ['api.*.verify_key'] })
    expect(await b.services.rootKeys.authenticate(made.key)).toMatchObject({ rootKeyId: made.rootKeyId })
    await a.services.rootKeys.revoke(made.rootKeyId)
    expect(await eventually(async () => (await b.services.rootKeys.authenticate(made.key)) === 'invalid', BOUND_MS)).toBe(true)
  })

  test('a ratelimit override set through node A is applied by node B', async () => {
    const c = await startNodes(2, (await redis()).url)
    const [a, b] = c.nodes as [Node, Node]
    const limit = () => b.services.ratelimit.limit(c.workspaceId, [{ namespace: 'api', identifier: 'user-1', limit: 100, duration: 60_000 }])
    expect((await limit()).results[0]!.limit).toBe(100)
    await a.services.ratelimit.setOverride(c.workspaceId, { namespace: 'api', identifier: 'user-1', limit: 3, duration: 60_000 })
    expect(await eventually(async () => (await limit()).results[0]!.limit === 3, BOUND_MS)).toBe(true)
  })

  test('invalidations made inside a transaction are announced only once it has committed', async () => {
    const server = await redis()
    const c = await startNodes(1, server.url)
    const node = c.nodes[0]!
    const heard: string[] = []
    const listener = new RedisClient(server.url)
    await listener.subscribe(node.cluster.bus.channel, (message) => {
      if (message.includes('"changes"')) heard.push(message)
    })
    let heardInside = -1
    await node.services.stores.transaction(async () => {
      node.services.keyCache.invalidateKey('key_inside')
      await Bun.sleep(100)
      heardInside = heard.length
    })
    // Published before the transaction's caller goes on.
    expect(await eventually(() => heard.length === 1, 1_000)).toBe(true)
    expect(heardInside).toBe(0)
    expect(JSON.parse(heard[0]!).changes).toEqual([{ kind: 'key', keyId: 'key_inside' }])
    listener.close()
  })

  test('Redis frozen: caches expire within the bound, so a change no message announced is seen in time', async () => {
    const server = await redis()
    const c = await startNodes(2, server.url)
    const [, b] = c.nodes as [Node, Node]
    const { keyId, key } = await newKey(c)
    expect((await warm(c, b, key)).code).toBe('VALID')
    server.freeze()
    // Written past every node (as a change whose announcement was lost would be).
    await b.stores.engine.run('UPDATE keys SET enabled = false WHERE id = $1', [keyId])
    const changed = performance.now()
    expect(await msUntil(c, b, key, 'DISABLED', changed)).toBeLessThan(BOUND_MS + 100)
    expect(b.cluster.health()).toEqual({ redis: true, changeBus: false })
    server.thaw()
    expect(await eventually(() => b.cluster.health().changeBus, 5_000)).toBe(true)
  })

  test('Redis back after an outage: the bus is live again, caches are emptied once, then kept', async () => {
    const server = await redis()
    const c = await startNodes(2, server.url)
    const [a, b] = c.nodes as [Node, Node]
    const { keyId, key } = await newKey(c)
    await server.kill()
    expect(await eventually(() => !b.cluster.health().changeBus)).toBe(true)
    await server.restart()
    expect(await eventually(() => a.cluster.health().changeBus && b.cluster.health().changeBus, 10_000)).toBe(true)
    expect((await warm(c, b, key)).code).toBe('VALID')
    // Kept: no periodic expiry once the bus is live.
    await Bun.sleep(2 * EXPIRY_WHILE_LOST_MS)
    expect(b.services.keyCache.size).toBe(1)
    // And changes flow again.
    await a.services.keys.update(c.workspaceId, { keyId, enabled: false })
    expect(await msUntil(c, b, key, 'DISABLED', performance.now())).toBeLessThan(BOUND_MS)
  })

  test('Redis unreachable: changes are refused with 503 and nothing is written; cached keys without credits or ratelimits still verify; ratelimits fail closed; credits still spend exactly', async () => {
    const server = await redis()
    const c = await startNodes(2, server.url)
    const [a, b] = c.nodes as [Node, Node]
    const plain = await newKey(c, { name: 'before' })
    const limited = await newKey(c, { ratelimits: [{ name: 'rps', limit: 10, duration: 1000, autoApply: true }] })
    const paid = await newKey(c, { credits: { remaining: 10 } })
    for (const k of [plain, limited, paid]) expect((await warm(c, b, k.key)).code).toBe('VALID')
    const left = (await a.services.keys.get(c.workspaceId, paid.keyId)).remaining!
    await server.kill()
    expect(await eventually(() => !a.cluster.health().redis)).toBe(true)

    const refused = await a.services.keys.update(c.workspaceId, { keyId: plain.keyId, name: 'after' }).catch((e) => e)
    expect(refused).toBeInstanceOf(ApiError)
    expect((refused as ApiError).status).toBe(503)
    expect((await a.services.keys.get(c.workspaceId, plain.keyId)).name).toBe('before')

    expect((await verify(c, b, plain.key)).code).toBe('VALID')
    expect(((await Promise.resolve(verify(c, b, limited.key)).catch((e) => e)) as ApiError).status).toBe(503)
    const spends = await Promise.all(Array.from({ length: left + 5 }, (_, i) => verify(c, c.nodes[i % 2]!, paid.key)))
    expect(spends.filter((r) => r.code === 'VALID')).toHaveLength(left)
    expect(spends.filter((r) => r.code === 'USAGE_EXCEEDED')).toHaveLength(5)
  })
})
