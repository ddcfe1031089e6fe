// The sliding-window engine on its own: arithmetic, all-or-nothing batches,
// accuracy over many windows and bounded memory. Time only moves through a
// ManualClock; nothing here depends on wall time.
import { describe, expect, test } from 'bun:test'
import { ManualClock } from '../../../src/clock'
import { SlidingWindowLimiter, type LimitRequest } from '../../../src/modules/ratelimit/limiter'

const START = Date.UTC(2026, 0, 1) // a multiple of every duration used below
const req = (over: Partial<LimitRequest> = {}): LimitRequest => ({ bucket: 'ws:ns', identifier: 'u1', limit: 10, duration: 1000, cost: 1, ...over })

function setup(options?: { maxEntries?: number }) {
  const clock = new ManualClock(START)
  const limiter = new SlidingWindowLimiter(clock, options)
  const one = (over: Partial<LimitRequest> = {}) => limiter.limit([req(over)]).outcomes[0]!
  return { clock, limiter, one }
}

/** A deterministic PRNG (mulberry32), so "random" arrivals are the same on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

describe('SlidingWindowLimiter arithmetic', () => {
  test('counts up to the limit, then refuses without consuming; reset is the end of the fixed window', () => {
    const { clock, one } = setup()
    clock.advance(250)
    for (let i = 1; i <= 10; i++) expect(one()).toEqual({ passed: true, limit: 10, remaining: 10 - i, reset: START + 1000 })
    expect(one()).toEqual({ passed: false, limit: 10, remaining: 0, reset: START + 1000 })
    expect(one({ cost: 0 })).toEqual({ passed: true, limit: 10, remaining: 0, reset: START + 1000 })
  })

  test('the previous window counts with the part of it the sliding window still covers', () => {
    const { clock, one } = setup()
    expect(one({ cost: 10 }).remaining).toBe(0)
    clock.advance(1000) // start of the next window: the previous one still counts fully
    expect(one()).toEqual({ passed: false, limit: 10, remaining: 0, reset: START + 2000 })
    clock.advance(300) // 70% of the previous window is still covered: 7 used
    expect(one({ cost: 0 })).toEqual({ passed: true, limit: 10, remaining: 3, reset: START + 2000 })
    expect(one({ cost: 3 })).toEqual({ passed: true, limit: 10, remaining: 0, reset: START + 2000 })
    expect(one().passed).toBe(false)
    clock.advance(700) // next window: previous = 3, fully covered
    expect(one({ cost: 0 }).remaining).toBe(7)
    clock.advance(1000) // two windows later nothing is left
    expect(one({ cost: 0 }).remaining).toBe(10)
  })

  test('remaining is floored and never negative', () => {
    const { clock, one } = setup()
    one({ cost: 3 })
    clock.advance(1500) // previous = 3 weighted 0.5 = 1.5
    expect(one({ cost: 0 }).remaining).toBe(8)
    expect(one({ cost: 20 })).toEqual({ passed: false, limit: 10, remaining: 8, reset: START + 2000 })
    expect(one({ limit: 1, cost: 0 })).toEqual({ passed: false, limit: 1, remaining: 0, reset: START + 2000 })
  })

  test('a cost larger than the limit is refused; cost 0 never consumes', () => {
    const { one } = setup()
    expect(one({ cost: 11 }).passed).toBe(false)
    for (let i = 0; i < 5; i++) expect(one({ cost: 0 })).toEqual({ passed: true, limit: 10, remaining: 10, reset: START + 1000 })
    expect(one({ cost: 10 }).passed).toBe(true)
  })

  test('a limit of 0 refuses everything, reads included', () => {
    const { one } = setup()
    expect(one({ limit: 0 })).toEqual({ passed: false, limit: 0, remaining: 0, reset: START + 1000 })
    expect(one({ limit: 0, cost: 0 }).passed).toBe(false)
  })

  test('counters are separate per bucket, identifier and duration', () => {
    const { one } = setup()
    one({ cost: 10 })
    expect(one({ cost: 0 }).remaining).toBe(0)
    expect(one({ cost: 0, bucket: 'ws:other' }).remaining).toBe(10)
    expect(one({ cost: 0, identifier: 'u2' }).remaining).toBe(10)
    expect(one({ cost: 0, duration: 2000 }).remaining).toBe(10)
    // The key cannot be forged by moving characters between bucket and identifier.
    expect(one({ cost: 0, bucket: 'ws:nsu', identifier: '1' }).remaining).toBe(10)
  })

  test('a clock that steps back does not roll counters back', () => {
    const { clock, one } = setup()
    clock.advance(1500)
    one({ cost: 10 })
    clock.set(START + 900)
    expect(one().passed).toBe(false)
  })
})

describe('SlidingWindowLimiter batches are all-or-nothing', () => {
  test('when one request is refused none consumes, and every outcome is reported', () => {
    const { limiter, one } = setup()
    one({ identifier: 'b', cost: 9 })
    const res = limiter.limit([req({ identifier: 'a', cost: 4 }), req({ identifier: 'b', cost: 2 }), req({ identifier: 'c' })])
    expect(res.passed).toBe(false)
    expect(res.outcomes).toEqual([
      { passed: true, limit: 10, remaining: 10, reset: START + 1000 },
      { passed: false, limit: 10, remaining: 1, reset: START + 1000 },
      { passed: true, limit: 10, remaining: 10, reset: START + 1000 },
    ])
    expect(one({ identifier: 'a', cost: 0 }).remaining).toBe(10)
    expect(one({ identifier: 'c', cost: 0 }).remaining).toBe(10)
  })

  test('when all pass all consume; two requests on one counter see each other', () => {
    const { limiter, one } = setup()
    const res = limiter.limit([req({ cost: 4 }), req({ cost: 5 }), req({ identifier: 'x' })])
    expect(res.passed).toBe(true)
    expect(res.outcomes.map((o) => o.remaining)).toEqual([6, 1, 9])
    expect(limiter.limit([req({ cost: 1 }), req({ cost: 1 })]).passed).toBe(false)
    expect(one({ cost: 0 }).remaining).toBe(1)
  })
})

describe('SlidingWindowLimiter accuracy', () => {
  const LIMIT = 100
  const DURATION = 1000
  const WINDOWS = 60

  /** Runs `perMs(ms)` requests each millisecond for WINDOWS windows; returns accepted counts per window. */
  function run(perMs: (ms: number) => number) {
    const { clock, limiter } = setup()
    const accepted: number[] = []
    for (let w = 0; w < WINDOWS; w++) {
      let count = 0
      for (let ms = 0; ms < DURATION; ms++) {
        const n = perMs(w * DURATION + ms)
        for (let i = 0; i < n; i++) {
          if (limiter.limit([req({ limit: LIMIT, duration: DURATION })]).passed) count++
        }
        clock.advance(1)
      }
      accepted.push(count)
    }
    return accepted
  }

  test('under steady overload every window accepts 97%–103% of the limit', () => {
    const accepted = run(() => 3) // 30× the limit
    for (const count of accepted) {
      expect(count).toBeGreaterThanOrEqual(LIMIT * 0.97)
      expect(count).toBeLessThanOrEqual(LIMIT * 1.03)
    }
  })

  test('under bursty, uneven overload every window still stays within 97%–103%', () => {
    const random = prng(42)
    const accepted = run(() => (random() < 0.2 ? Math.floor(random() * 20) : 0)) // ~2 per ms on average, in bursts
    for (const count of accepted) {
      expect(count).toBeGreaterThanOrEqual(LIMIT * 0.97)
      expect(count).toBeLessThanOrEqual(LIMIT * 1.03)
    }
  })

  test('below the limit every request is accepted', () => {
    const random = prng(7)
    let offered = 0
    const perWindow = new Map<number, number>()
    const accepted = run((ms) => {
      // At most half the limit per window, at random instants: the sliding sum never exceeds the limit.
      const window = Math.floor(ms / DURATION)
      const sent = perWindow.get(window) ?? 0
      if (sent >= LIMIT / 2 || random() >= 0.06) return 0
      perWindow.set(window, sent + 1)
      offered++
      return 1
    })
    expect(offered).toBeGreaterThan(WINDOWS * 45)
    expect(accepted.reduce((a, b) => a + b, 0)).toBe(offered)
  })
})

describe('SlidingWindowLimiter memory', () => {
  test('a million distinct identifiers: expired counters are dropped as time moves on', () => {
    const { clock, limiter } = setup()
    const duration = 1000
    const perMs = 100 // 100,000 new identifiers per window
    let peak = 0
    for (let i = 0; i < 1_000_000; i++) {
      limiter.limit([{ bucket: 'ws:ns', identifier: `user-${i}`, limit: 5, duration, cost: 1 }])
      if (i % perMs === perMs - 1) {
        clock.advance(1)
        peak = Math.max(peak, limiter.size)
      }
    }
    // Only the current and the previous window (200,000 identifiers) can still matter;
    // the incremental sweep keeps what it has not reached yet within a small multiple.
    expect(peak).toBeLessThanOrEqual(300_000)
    clock.advance(2 * duration)
    limiter.sweep()
    expect(limiter.size).toBe(0)
  })

  test('reads and refusals store nothing', () => {
    const { limiter } = setup()
    for (let i = 0; i < 1000; i++) {
      limiter.limit([req({ identifier: `r${i}`, cost: 0 })])
      limiter.limit([req({ identifier: `z${i}`, limit: 0 })])
    }
    expect(limiter.size).toBe(0)
  })

  test('maxEntries is a hard cap: the oldest counter is evicted first', () => {
    const { limiter, one } = setup({ maxEntries: 1000 })
    for (let i = 0; i < 10_000; i++) one({ identifier: `u${i}`, cost: 10 })
    expect(limiter.size).toBe(1000)
    expect(one({ identifier: 'u9999', cost: 0 }).remaining).toBe(0) // recent: still counted
    expect(one({ identifier: 'u0', cost: 0 }).remaining).toBe(10) // evicted: forgotten
  })
})
