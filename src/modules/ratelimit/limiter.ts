// The ratelimit engine: a sliding window evaluated over two fixed windows,
// held entirely in memory and answered synchronously (no I/O per decision).
// Used by ratelimit.limit / multiLimit and by key ratelimits in verifyKey.
// Cluster mode swaps in src/cluster/limiter.ts, the same arithmetic in Redis,
// behind the `Limiter` interface (whose answer may then be a Promise).
//
// For a counter (bucket, identifier, duration) at time `now`:
//   sequence  = floor(now / duration)       -- the current fixed window
//   effective = current + previous × (1 − elapsed fraction of the current window) + cost
// A request passes when effective ≤ limit (and limit > 0) and then adds `cost`
// to the current window; a refused request consumes nothing.
//
// Counters are deliberately not persisted: a restart forgets them, so every
// identifier starts with a full allowance afterwards. Memory stays bounded:
//   - an entry whose two windows are both over is dead and is removed, lazily
//     when it is next touched and by an incremental sweep that visits a few
//     entries for every entry created (so sweeping costs O(1) per decision and
//     never pauses the event loop for a full scan);
//   - at `maxEntries` the oldest-created entry is evicted before a new one is
//     added. Evicting a live counter forgets its count (fails open for that
//     identifier), which is preferable to refusing traffic or growing without end.
import type { Clock } from '../../clock'

export interface LimitRequest {
  /** Opaque scope of the counters, e.g. `${workspaceId}:${namespaceId}`. */
  bucket: string
  identifier: string
  limit: number
  /** Window length in milliseconds. */
  duration: number
  /** How much of the allowance this request takes; 0 only reads. */
  cost: number
}

export interface LimitOutcome {
  passed: boolean
  limit: number
  /** What is left after this request, never negative. */
  remaining: number
  /** End of the current fixed window, unix ms. */
  reset: number
}

export interface LimitDecision {
  passed: boolean
  outcomes: LimitOutcome[]
}

/** What ratelimit.limit and verifyKey ask of a limiter: this one answers at once, a shared one (Redis) later. */
export interface Limiter {
  limit(requests: LimitRequest[]): LimitDecision | Promise<LimitDecision>
  /** Counters held in this process's memory. */
  readonly size: number
}

export interface LimiterOptions {
  /** Upper bound on counters held at once (default 1,000,000). */
  maxEntries?: number
}

interface Counter {
  /** Fixed-window sequence that `current` belongs to. */
  sequence: number
  current: number
  /** Count of window `sequence - 1`. */
  previous: number
  duration: number
}

/** Entries examined by the sweep for every entry created. */
const SWEEP_STEPS_PER_INSERT = 4

export class SlidingWindowLimiter implements Limiter {
  private readonly counters = new Map<string, Counter>()
  private readonly maxEntries: number
  private sweepCursor: IterableIterator<[string, Counter]> | null = null

  constructor(
    private readonly clock: Clock,
    options: LimiterOptions = {},
  ) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 1_000_000)
  }

  /** Number of counters currently held (live or not yet swept). */
  get size(): number {
    return this.counters.size
  }

  /**
   * Checks every request at one instant. All-or-nothing: when any request is
   * refused, none of them consumes anything. Requests are applied in order, so
   * two requests on the same counter see each other's cost. Every outcome is
   * returned; after a refusal, `remaining` reflects the untouched counters.
   */
  limit(requests: LimitRequest[]): LimitDecision {
    const now = this.clock.now()
    const counters: Counter[] = new Array(requests.length)
    const outcomes: LimitOutcome[] = new Array(requests.length)
    let passed = true
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!
      const key = counterKey(request)
      const counter = this.current(key, request.duration, now)
      counters[i] = counter
      const used = counter.current + weightedPrevious(counter, now)
      const ok = request.limit > 0 && used + request.cost <= request.limit
      if (ok && request.cost > 0) {
        // Only consumption stores a counter: reads and refusals leave no trace in memory.
        if (counter.current === 0 && !this.counters.has(key)) this.store(key, counter, now)
        counter.current += request.cost
      }
      if (!ok) passed = false
      outcomes[i] = {
        passed: ok,
        limit: request.limit,
        remaining: remainingOf(request.limit, used + (ok ? request.cost : 0)),
        reset: (counter.sequence + 1) * counter.duration,
      }
    }
    if (!passed) {
      for (let i = 0; i < requests.length; i++) {
        if (outcomes[i]!.passed) counters[i]!.current -= requests[i]!.cost
      }
      for (let i = 0; i < requests.length; i++) {
        const counter = counters[i]!
        outcomes[i]!.remaining = remainingOf(requests[i]!.limit, counter.current + weightedPrevious(counter, now))
      }
    }
    return { passed, outcomes }
  }

  /** Drops every counter whose windows are both over. O(n); the incremental sweep makes calling it optional. */
  sweep(): void {
    const now = this.clock.now()
    for (const [key, counter] of this.counters) {
      if (isDead(counter, now)) this.counters.delete(key)
    }
  }

  /**
   * The stored counter for `key` rolled forward to the window of `now`, or a
   * fresh unstored one. A clock that steps back never rolls a counter back.
   */
  private current(key: string, duration: number, now: number): Counter {
    const sequence = Math.floor(now / duration)
    const counter = this.counters.get(key)
    if (!counter) return { sequence, current: 0, previous: 0, duration }
    if (sequence > counter.sequence) {
      counter.previous = counter.sequence === sequence - 1 ? counter.current : 0
      counter.current = 0
      counter.sequence = sequence
    }
    return counter
  }

  private store(key: string, counter: Counter, now: number): void {
    this.sweepSome(now)
    if (this.counters.size >= this.maxEntries) this.evictOldest()
    this.counters.set(key, counter)
  }

  private sweepSome(now: number): void {
    for (let step = 0; step < SWEEP_STEPS_PER_INSERT; step++) {
      this.sweepCursor ??= this.counters.entries()
      const next = this.sweepCursor.next()
      if (next.done) {
        this.sweepCursor = null
        return
      }
      const [key, counter] = next.value
      if (isDead(counter, now)) this.counters.delete(key)
    }
  }

  private evictOldest(): void {
    const oldest = this.counters.keys().next()
    if (!oldest.done) this.counters.delete(oldest.value)
  }
}

/** Length-prefixing the bucket keeps the key unambiguous whatever characters bucket and identifier contain. */
export function counterKey(request: LimitRequest): string {
  return `${request.duration}:${request.bucket.length}:${request.bucket}${request.identifier}`
}

/** The previous window's count, weighted by how much of it the sliding window still covers. */
function weightedPrevious(counter: Counter, now: number): number {
  if (counter.previous === 0) return 0
  const elapsed = Math.min(Math.max(now - counter.sequence * counter.duration, 0), counter.duration)
  return (counter.previous * (counter.duration - elapsed)) / counter.duration
}

/** True when neither window of the counter can affect a decision at `now` any more. */
function isDead(counter: Counter, now: number): boolean {
  return now >= (counter.sequence + 2) * counter.duration
}

function remainingOf(limit: number, used: number): number {
  return Math.max(0, Math.floor(limit - used))
}
