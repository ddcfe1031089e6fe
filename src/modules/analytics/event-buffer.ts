// The write side of analytics, shared by every kind of event (verifications,
// ratelimit decisions): events are buffered in memory and written in one
// batch (on the flush timer, when the buffer fills, at shutdown), so that the
// request that produced them adds no write. Losses are bounded, as the README
// states: what a crash catches in the buffer (at most one flush interval), and
// what no longer fits ten buffers' worth while the database cannot be written
// (the oldest go first, reported through onError). Old events are pruned a
// slice at a time, so that no single delete holds the database for long.

import { PartialBatchError } from '../../db/stores/analytics'

export interface EventBufferOptions {
  /** Events kept while the database cannot be written: ten times this many (the oldest go first). */
  maxBuffered?: number
  /** Events buffered that start a write before the timer's (at most maxBuffered). */
  writeAt?: number
  /** The longest `room` makes anyone wait for one call of `write` (default 30 s). */
  maxWaitMs?: number
  onError?: (error: unknown) => void
}

/** Reports a failed background write as one JSON line on stderr. */
export const reportTo = (message: string) => (error: unknown) => process.stderr.write(`${JSON.stringify({ level: 'error', message, error: String(error) })}\n`)

/**
 * Events that start a write before the timer's. Small on purpose: an event
 * object that waits long enough outlives a young-generation collection and
 * is then freed only by a full one. A verification's p99 at 8 connections
 * (one key; garbage collection pauses, BUN_JSC_logGC) was 5.3 ms at 5,000,
 * 3.3 ms at 1,000 and 2.2 ms at 250 in one series of runs; at 512, paired
 * against 5,000, 3.8-4.3 ms against 6.8-7.5. Smaller batches cost the
 * writer thread more per event (a transaction, a note and a sync each).
 */
const WRITE_AT = 512

export class EventBuffer<E> {
  private events: E[] = []
  private flushing: Promise<void> | null = null
  /** The call of `write` in progress (a write hands its events over in calls of at most maxBuffered), and when it began. */
  private current: Promise<void> | null = null
  private currentSince = 0
  /** Events a write in progress has taken but not yet handed to `write`. */
  private inHand = 0
  /** Settles when `current` does (either way), or at the latest maxWaitMs after it began: what `room` hands out. */
  private settled: Promise<void> | null = null
  /**
   * What a flush() called during the write in progress returns: the whole write after it. While
   * set, the next write is that whole one, whatever piled up.
   */
  private wholeAfter: Promise<void> | null = null
  private readonly maxWaitMs: number
  readonly maxBuffered: number
  private readonly writeAt: number
  readonly onError: (error: unknown) => void

  /**
   * `write` stores one batch (and anything kept beside the events, which it
   * must hand back itself on failure; with `early`, a write started because
   * the buffer filled, it may leave that for the next write); `pending`
   * tells whether there is such other work even without events.
   */
  constructor(
    private readonly what: string,
    private readonly write: (events: E[], early: boolean) => Promise<void>,
    options: EventBufferOptions = {},
    private readonly pending: () => boolean = () => false,
  ) {
    this.maxBuffered = options.maxBuffered ?? 5_000
    this.writeAt = Math.min(options.writeAt ?? WRITE_AT, this.maxBuffered)
    this.maxWaitMs = options.maxWaitMs ?? 30_000
    this.onError = options.onError ?? reportTo(`writing ${what} failed`)
  }

  push(event: E): void {
    this.events.push(event)
    // Written at once rather than waiting for the timer; the request does not wait for it.
    if (this.events.length >= this.writeAt && !this.flushing) this.start(true).catch(this.onError)
  }

  /**
   * Null while there is room; else a promise that settles when the call of `write` in progress
   * does. A producer faster than the database (a million distinct keys verified at once: every
   * event then updates rows of its own) waits on it rather than piling up events without bound:
   * they stayed in memory, each write took all of them and took longer, and a server 20 s into
   * such a load held 377,000 events and 1.7 GB. The bound is the one kept while the database cannot
   * be written; then nobody waits (the write failed, and the oldest go first). A write hands its
   * events over at most maxBuffered at a time, so nobody waits for more than that many: waiting
   * for all that had piled up held answers for seconds. Nor does anyone wait past maxWaitMs for one
   * call: a write that hangs (a connection gone silent) must not stop verification any more than
   * one that fails.
   */
  room(): Promise<void> | null {
    if (this.current === null || this.events.length + this.inHand < this.maxBuffered * 10) return null
    if (this.settled === null) {
      const left = this.maxWaitMs - (performance.now() - this.currentSince)
      if (left <= 0) return null
      const write = this.current
      this.settled = new Promise((resolve) => {
        const timer = setTimeout(() => {
          // Waited long enough for this call: nobody waits for it again.
          if (this.current === write) this.settled = NO_WAIT
          resolve()
        }, left)
        const done = () => {
          clearTimeout(timer)
          resolve()
        }
        write.then(done, done)
      })
    }
    return this.settled === NO_WAIT ? null : this.settled
  }

  /** Events not written yet, including those a write in progress has yet to hand over. */
  get buffered(): number {
    return this.events.length + this.inHand
  }

  /**
   * Writes what is buffered, and what is kept beside it, in a whole write that starts no earlier than
   * this call (a write in progress took its events before it: at shutdown, the timer's write could
   * otherwise leave the last requests' events unwritten). On failure they stay buffered (up to ten
   * buffers' worth) for the next flush.
   */
  flush(): Promise<void> {
    if (!this.flushing) return this.start(false)
    // The write in progress is followed by a whole one (see settle), which this call then shares.
    this.wholeAfter ??= this.flushing.then(NOTHING, NOTHING).then(() => this.start(false))
    return this.wholeAfter
  }

  private start(early: boolean): Promise<void> {
    if (!this.flushing) {
      if (!early) this.wholeAfter = null
      this.flushing = this.writeBuffered(early).then(
        () => this.settle(true),
        (error) => {
          this.settle(false)
          throw error
        },
      )
    }
    return this.flushing
  }

  private settle(written: boolean): void {
    this.flushing = null
    // What piled up meanwhile is written at once (producers may be waiting for room), as a whole
    // write when a flush() waits for one (else a steady stream of early writes would keep it waiting,
    // and the last-used times unwritten); after a failure, not before the timer or the next push:
    // a database that cannot be written is not retried in a loop.
    const whole = this.wholeAfter !== null
    if (written && (whole || this.events.length >= this.writeAt)) this.start(!whole).catch(this.onError)
  }

  /**
   * An early write takes the oldest maxBuffered events; a whole one takes every event buffered now
   * and hands them over maxBuffered at a time, what is kept beside them with the last.
   */
  private async writeBuffered(early: boolean): Promise<void> {
    if (this.events.length === 0 && !this.pending()) return
    const events = early ? this.events.splice(0, this.maxBuffered) : this.events.splice(0)
    let from = 0
    try {
      do {
        const part = events.slice(from, from + this.maxBuffered)
        this.inHand = events.length - from - part.length
        await this.call(part, early || this.inHand > 0)
        from += part.length
      } while (from < events.length)
    } catch (error) {
      // What committed before a failure is not written twice.
      const written = from + (error instanceof PartialBatchError ? error.written : 0)
      this.requeue(events.slice(written))
      throw error
    } finally {
      this.inHand = 0
    }
  }

  /** One call of `write`, which `room` waits for. */
  private async call(events: E[], early: boolean): Promise<void> {
    const call = this.write(events, early)
    this.current = call
    this.currentSince = performance.now()
    try {
      await call
    } finally {
      this.current = null
      this.settled = null
    }
  }

  private requeue(events: E[]): void {
    const kept = [...events, ...this.events]
    const limit = this.maxBuffered * 10
    if (kept.length > limit) {
      this.onError(new Error(`${kept.length - limit} ${this.what} dropped: the database could not be written`))
      kept.splice(0, kept.length - limit)
    }
    this.events = kept
  }
}

/** `value`, once `room` (an EventBuffer's room()) has settled: what a producer answers with. */
export function whenRoom<T>(room: Promise<void> | null, value: T): T | Promise<T> {
  return room === null ? value : room.then(() => value)
}

const NOTHING = () => {}

/** `settled` once a call of `write` has been waited for maxWaitMs: room() is null until the next call. */
const NO_WAIT: Promise<void> = Promise.resolve()

/** Calls `deleteSlice(before, 5000)` until a slice comes back short; returns the total deleted. */
export async function pruneInSlices(deleteSlice: (before: number, limit: number) => Promise<number>, before: number): Promise<number> {
  let total = 0
  for (;;) {
    const removed = await deleteSlice(before, 5_000)
    total += removed
    if (removed < 5_000) return total
  }
}
