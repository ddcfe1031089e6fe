// Accuracy through the real HTTP route. Time moves only through the harness's
// ManualClock; there are no timed assertions.
import { describe, expect, test } from 'bun:test'
import { type Harness, withHarness } from '../../support/harness'

let h: Harness
let key: string
withHarness((f) => ({ h, root: key } = f), 'acme')

const LIMIT = 100
const DURATION = 1000
const body = (identifier = 'user_1') => ({ namespace: 'api', identifier, limit: LIMIT, duration: DURATION })

async function passes(identifier?: string): Promise<boolean> {
  const res = await h.call('/v2/ratelimit.limit', body(identifier), key)
  expect(res.status).toBe(200)
  return res.body.data.success
}

describe('ratelimit.limit accuracy', () => {
  test('steady overload: every window accepts 97%–103% of the limit', async () => {
    const accepted: number[] = []
    for (let w = 0; w < 10; w++) {
      let count = 0
      // 3 requests every 5 ms: 600 offered per window, 6× the limit.
      for (let step = 0; step < DURATION / 5; step++) {
        for (let i = 0; i < 3; i++) if (await passes()) count++
        h.clock.advance(5)
      }
      accepted.push(count)
    }
    for (const count of accepted) {
      expect(count).toBeGreaterThanOrEqual(LIMIT * 0.97)
      expect(count).toBeLessThanOrEqual(LIMIT * 1.03)
    }
  })

  test('below the limit: every request is accepted', async () => {
    let offered = 0
    for (let w = 0; w < 10; w++) {
      // Half the limit per window, so the sliding sum never exceeds it.
      for (let step = 0; step < LIMIT / 2; step++) {
        expect(await passes()).toBe(true)
        offered++
        h.clock.advance(DURATION / (LIMIT / 2))
      }
    }
    expect(offered).toBe(5 * LIMIT)
  })

  test('concurrent requests for one identifier never exceed the limit in a window', async () => {
    for (let w = 0; w < 5; w++) {
      const results = await Promise.all(Array.from({ length: 3 * LIMIT }, () => passes()))
      const accepted = results.filter(Boolean).length
      // The first window has no history; later ones inherit the weighted previous window.
      expect(accepted).toBeLessThanOrEqual(LIMIT)
      if (w === 0) expect(accepted).toBe(LIMIT)
      h.clock.advance(2 * DURATION)
    }
  })

  test('concurrent multiLimit batches never overcommit any of their counters', async () => {
    const batch = [body('a'), body('b')]
    const results = await Promise.all(
      Array.from({ length: 2 * LIMIT }, () => h.call('/v2/ratelimit.multiLimit', batch, key).then((r) => r.body.data.passed as boolean)),
    )
    expect(results.filter(Boolean).length).toBe(LIMIT)
    const a = await h.ok('ratelimit.limit', { ...body('a'), cost: 0 }, key)
    const b = await h.ok('ratelimit.limit', { ...body('b'), cost: 0 }, key)
    expect([a.remaining, b.remaining]).toEqual([0, 0])
  })
})
