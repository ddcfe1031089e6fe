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
  /** Events buffered before a write is forced. */
  maxBuffered?: number
  onError?: (error: unknown) => void
}

/** Reports a failed background write as one JSON line on stderr. */
export const reportTo = (message: string) => (error: unknown) => process.stderr.write(`${JSON.stringify({ level: 'error', message, error: String(error) })}\n`)

export class EventBuffer<E> {
  private events: E[] = []
  private flushing: Promise<void> | null = null
  readonly maxBuffered: number
  readonly onError: (error: unknown) => void

  /**
   * `write` stores one batch (and anything kept beside the events, which it
   * must hand back itself on failure); `pending` tells whether there is such
   * other work even without events.
   */
  constructor(
    private readonly what: string,
    private readonly write: (events: E[]) => Promise<void>,
    options: EventBufferOptions = {},
    private readonly pending: () => boolean = () => false,
  ) {
    this.maxBuffered = options.maxBuffered ?? 5_000
    this.onError = options.onError ?? reportTo(`writing ${what} failed`)
  }

  push(event: E): void {
    this.events.push(event)
    // A full buffer is written at once rather than waiting for the timer; the request does not wait for it.
    if (this.events.length >= this.maxBuffered && !this.flushing) this.flush().catch(this.onError)
  }

  get buffered(): number {
    return this.events.length
  }

  /** Writes what is buffered. On failure it stays buffered (up to ten buffers' worth) for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => (this.flushing = null))
    return this.flushing
  }

  private async writeBuffered(): Promise<void> {
    if (this.events.length === 0 && !this.pending()) return
    const events = this.events
    this.events = []
    try {
      await this.write(events)
    } catch (error) {
      // What committed before a failure is not written twice.
      this.requeue(error instanceof PartialBatchError ? events.slice(error.written) : events)
      throw error
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

/** Calls `deleteSlice(before, 5000)` until a slice comes back short; returns the total deleted. */
export async function pruneInSlices(deleteSlice: (before: number, limit: number) => Promise<number>, before: number): Promise<number> {
  let total = 0
  for (;;) {
    const removed = await deleteSlice(before, 5_000)
    total += removed
    if (removed < 5_000) return total
  }
}
