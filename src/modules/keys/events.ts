// Verification events and last-used times, buffered in memory and written a
// batch at a time through the stores' event writer (on a timer, when the
// buffer fills, and at shutdown), so that verifyKey adds no write per call. Unlike credits, these
// may be lost within bounds, which the README states: what a crash catches in
// the buffer (at most one flush interval), and what no longer fits the
// retry buffer while the database cannot be written (the oldest, logged).
// What one event stores is bounded too (its tags; none for unknown keys),
// and events past the retention period are pruned by the scheduled job. The
// buffering itself is analytics' EventBuffer, shared with ratelimit events.
import type { Stores } from '../../db/stores'
import type { VerificationEvent } from '../../db/stores/analytics'
import { EventBuffer, type EventBufferOptions, pruneInSlices } from '../analytics/event-buffer'

export type { VerificationEvent }

export interface VerificationLogOptions extends EventBufferOptions {
  /** Characters of tags one event keeps (whole tags, in order). */
  maxTagChars?: number
}

/** The leading tags whose lengths add up to at most `max` characters. */
function boundedTags(tags: string[], max: number): string[] {
  let total = 0
  let kept = 0
  for (const tag of tags) {
    if (total + tag.length > max) break
    total += tag.length
    kept++
  }
  return kept === tags.length ? tags : tags.slice(0, kept)
}

export class VerificationLog {
  private readonly buffer: EventBuffer<VerificationEvent>
  private readonly lastUsed = new Map<string, number>()
  private readonly maxTagChars: number

  constructor(
    private readonly stores: Pick<Stores, 'eventWriter' | 'verificationEvents'>,
    options: VerificationLogOptions = {},
  ) {
    this.maxTagChars = options.maxTagChars ?? 1_024
    this.buffer = new EventBuffer(
      'verification events',
      (events, early) => this.write(events, early),
      options,
      () => this.lastUsed.size > 0,
    )
  }

  record(event: VerificationEvent): void {
    // Tags sent with an unknown key are kept by nobody: an attacker's filler costs us nothing.
    const tags = event.keyId === null && event.tags.length > 0 ? [] : boundedTags(event.tags, this.maxTagChars)
    if (event.keyId && event.outcome !== 'NOT_FOUND') this.lastUsed.set(event.keyId, event.time)
    this.buffer.push(tags === event.tags ? event : { ...event, tags })
  }

  /** Pending last-used time of a key, newer than the stored one. */
  pendingLastUsed(keyId: string): number | undefined {
    return this.lastUsed.get(keyId)
  }

  get buffered(): number {
    return this.buffer.buffered
  }

  /** Null while there is room for more events; else when there will be (EventBuffer.room). */
  room(): Promise<void> | null {
    return this.buffer.room()
  }

  /** Writes what is buffered. On failure it stays buffered (up to ten buffers' worth) for the next flush. */
  flush(): Promise<void> {
    return this.buffer.flush()
  }

  /**
   * One batch of events (with their rollups) and the last-used times gathered with them, in one
   * transaction. An early batch (the buffer filled) leaves the last-used times to the timer's write:
   * once a flush interval, not once a batch, so small batches do not touch every key more often.
   */
  private async write(events: VerificationEvent[], early: boolean): Promise<void> {
    const lastUsed = early ? [] : [...this.lastUsed]
    if (!early) this.lastUsed.clear()
    try {
      await this.stores.eventWriter.writeVerifications(events, lastUsed)
    } catch (error) {
      for (const [keyId, at] of lastUsed) if ((this.lastUsed.get(keyId) ?? 0) < at) this.lastUsed.set(keyId, at)
      throw error
    }
  }

  /** Deletes events older than `before` (unix ms), a slice at a time so that no single write holds the database long. */
  prune(before: number): Promise<number> {
    return pruneInSlices((cutoff, limit) => this.stores.verificationEvents.deleteBefore(cutoff, limit), before)
  }
}
