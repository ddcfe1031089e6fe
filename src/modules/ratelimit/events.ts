// Ratelimit decisions as events for analytics.getRatelimits: one per limit
// checked by ratelimit.limit / multiLimit and per key or identity limit
// checked by verifyKey. Buffered, bounded and pruned exactly like
// verification events (the shared EventBuffer): no write per decision, at
// most ten buffers' worth kept while the database cannot be written.
import type { Stores } from '../../db/stores'
import type { RatelimitEvent } from '../../db/stores/analytics'
import { EventBuffer, type EventBufferOptions, pruneInSlices } from '../analytics/event-buffer'

export type { RatelimitEvent }

export class RatelimitLog {
  private readonly buffer: EventBuffer<RatelimitEvent>

  constructor(
    private readonly stores: Pick<Stores, 'ratelimitEvents' | 'eventWriter'>,
    options: EventBufferOptions = {},
  ) {
    this.buffer = new EventBuffer('ratelimit events', (events) => this.stores.eventWriter.writeRatelimits(events), options)
  }

  record(event: RatelimitEvent): void {
    this.buffer.push(event)
  }

  get buffered(): number {
    return this.buffer.buffered
  }

  /** Null while there is room for more events; else when there will be (EventBuffer.room). */
  room(): Promise<void> | null {
    return this.buffer.room()
  }

  flush(): Promise<void> {
    return this.buffer.flush()
  }

  /** Deletes decisions older than `before` (unix ms), a slice at a time. */
  prune(before: number): Promise<number> {
    return pruneInSlices((cutoff, limit) => this.stores.ratelimitEvents.deleteBefore(cutoff, limit), before)
  }
}
