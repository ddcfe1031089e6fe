// The shared ratelimit engine (src/cluster/limiter.ts) against a real Redis:
// the same answers as the in-memory SlidingWindowLimiter for any sequence of
// batches, one set of counters for every node, counters that outlive a node
// and expire once they no longer matter, and a 503 when Redis is gone.
// Time moves through a ManualClock (the script takes the node's clock).
import { afterEach, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { ManualClock } from '../../src/clock'
import { RedisLimiter } from '../../src/cluster/limiter'
import { RedisLink } from '../../src/cluster/redis'
import { ApiError } from '../../src/errors'
import { type LimitRequest, SlidingWindowLimiter } from '../../src/modules/ratelimit/limiter'
import { HAVE_ENGINES, privateRedis, testRedisUrl, uniquePrefix } from './engines'

const START = Date.UTC(2026, 0, 1)
const quiet = () => {}
const links: RedisLink[] = []
afterEach(() => {
  for (const link of links.splice(0)) link.close()
})

async function link(url = testRedisUrl()): Promise<RedisLink> {
  const made = new RedisLink(url, { name: 'test', commandTimeoutMs: 1_000, log: quiet })
  links.push(made)
  await made.start()
  return made
}

const req = (over: Partial<LimitRequest> = {}): LimitRequest => ({ bucket: 'ws:ns', identifier: 'u1', limit: 10, duration: 1000, cost: 1, ...over })

describe.skipIf(!HAVE_ENGINES)('RedisLimiter', () => {
  const redis = privateRedis()

  test('answers exactly as the in-memory limiter for any sequence of batches and clock moves', async () => {
    const shared = await link()
    const request = fc.record({
      counter: fc.integer({ min: 0, max: 2 }),
      limit: fc.integer({ min: 0, max: 12 }),
      cost: fc.integer({ min: 0, max: 4 }),
    })
    const step = fc.record({ advance: fc.integer({ min: 0, max: 700 }), batch: fc.array(request, { minLength: 1, maxLength: 3 }) })
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const clock = new ManualClock(START + 123)
        const memory = new SlidingWindowLimiter(clock)
        const remote = new RedisLimiter(shared, clock, uniquePrefix())
        for (const { advance, batch } of steps) {
          clock.advance(advance)
          // Three counters with different windows; a batch may name one counter twice.
          const requests = batch.map((r) => req({ identifier: `u${r.counter}`, duration: [1000, 1000, 250][r.counter]!, limit: r.limit, cost: r.cost }))
          expect(await remote.limit(requests)).toEqual(memory.limit(requests))
        }
      }),
      { numRuns: 60 },
    )
  })

  test('every node counts against the same counters, and they outlive the node that wrote them', async () => {
    const clock = new ManualClock(START)
    const prefix = uniquePrefix()
    const nodes = await Promise.all([link(), link(), link()])
    const limiters = nodes.map((n) => new RedisLimiter(n, clock, prefix))
    const decisions = await Promise.all(Array.from({ length: 90 }, (_, i) => limiters[i % 3]!.limit([req({ limit: 50 })])))
    expect(decisions.filter((d) => d.passed)).toHaveLength(50)
    // A node started afterwards (a restart) sees the same count.
    const restarted = new RedisLimiter(await link(), clock, prefix)
    expect((await restarted.limit([req({ limit: 50, cost: 0 })])).outcomes[0]).toEqual({ passed: true, limit: 50, remaining: 0, reset: START + 1000 })
  })

  test('a refused batch consumes nothing on any counter', async () => {
    const clock = new ManualClock(START)
    const limiter = new RedisLimiter(await link(), clock, uniquePrefix())
    const refused = await limiter.limit([req({ identifier: 'a', limit: 5, cost: 3 }), req({ identifier: 'b', limit: 2, cost: 3 })])
    expect(refused.passed).toBe(false)
    expect(refused.outcomes.map((o) => [o.passed, o.remaining])).toEqual([
      [true, 5],
      [false, 2],
    ])
    expect((await limiter.limit([req({ identifier: 'a', limit: 5, cost: 5 })])).passed).toBe(true)
  })

  test('a window key expires once neither window it counts for can matter', async () => {
    const clock = new ManualClock(START + 400)
    const prefix = uniquePrefix()
    const commands = await link()
    await new RedisLimiter(commands, clock, prefix).limit([req({ duration: 60_000 })])
    const keys = (await commands.command('KEYS', [`${prefix}*`])) as string[]
    expect(keys).toHaveLength(1)
    const ttl = (await commands.command('PTTL', [keys[0]!])) as number
    // The end of the next window (119.6 s away) plus a second of slack for the nodes' clocks.
    expect(ttl).toBeGreaterThan(119_000)
    expect(ttl).toBeLessThanOrEqual(120_600)
  })

  test('Redis restarted (its scripts and counters gone): the next decision loads the script again', async () => {
    const server = await redis()
    const clock = new ManualClock(START)
    const commands = await link(server.url)
    const limiter = new RedisLimiter(commands, clock, uniquePrefix())
    expect((await limiter.limit([req()])).passed).toBe(true)
    await server.kill()
    await server.restart()
    // The link reconnects on its own.
    for (let i = 0; i < 200 && !commands.connected; i++) await Bun.sleep(10)
    expect((await limiter.limit([req()])).outcomes[0]!.remaining).toBe(9)
  })

  test('Redis unreachable: the decision fails with 503 at once, and works again when Redis is back', async () => {
    const server = await redis()
    const clock = new ManualClock(START)
    const commands = await link(server.url)
    const limiter = new RedisLimiter(commands, clock, uniquePrefix())
    await server.kill()
    const failure = await limiter.limit([req()]).catch((e) => e)
    expect(failure).toBeInstanceOf(ApiError)
    expect((failure as ApiError).status).toBe(503)
    await server.restart()
    for (let i = 0; i < 300 && !commands.connected; i++) await Bun.sleep(10)
    expect((await limiter.limit([req()])).passed).toBe(true)
  })

  test('Redis frozen (no answer, connection open): the decision fails with 503 after the command timeout', async () => {
    const server = await redis()
    const commands = new RedisLink(server.url, { name: 'test', commandTimeoutMs: 300, log: quiet })
    links.push(commands)
    await commands.start()
    const limiter = new RedisLimiter(commands, new ManualClock(START), uniquePrefix())
    server.freeze()
    const failure = await limiter.limit([req()]).catch((e) => e)
    server.thaw()
    expect((failure as ApiError).status).toBe(503)
  })
})
