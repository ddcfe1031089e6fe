// Verification events and last-used times, buffered in memory and written in
// one transaction per batch (on a timer, when the buffer fills, and at
// shutdown), so that verifyKey adds no write per call. Unlike credits, these
// may be lost within bounds, which the README states: what a crash catches in
// the buffer (at most one flush interval), and what no longer fits the
// retry buffer while the database cannot be written (the oldest, logged).
// What one event stores is bounded too (its tags; none for unknown keys),
// and events past the retention period are pruned by the scheduled job.
import type { Stores } from '../../db/stores'
import type { VerificationEvent } from '../../db/stores/keys'

export type { VerificationEvent }

export interface VerificationLogOptions {
  /** Events buffered before a write is forced. */
  maxBuffered?: number
  /** Characters of tags one event keeps (whole tags, in order). */
  maxTagChars?: number
  onError?: (error: unknown) => void
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
  private events: VerificationEvent[] = []
  private readonly lastUsed = new Map<string, number>()
  private readonly maxBuffered: number
  private readonly maxTagChars: number
  private readonly onError: (error: unknown) => void
  private flushing: Promise<void> | null = null

  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'verificationEvents' | 'transaction'>,
    options: VerificationLogOptions = {},
  ) {
    this.maxBuffered = options.maxBuffered ?? 5_000
    this.maxTagChars = options.maxTagChars ?? 1_024
    this.onError =
      options.onError ??
      ((error) => process.stderr.write(`${JSON.stringify({ level: 'error', message: 'writing verification events failed', error: String(error) })}\n`))
  }

  record(event: VerificationEvent): void {
    // Tags sent with an unknown key are kept by nobody: an attacker's filler costs us nothing.
    const tags = event.keyId === null ? [] : boundedTags(event.tags, this.maxTagChars)
    this.events.push(tags === event.tags ? event : { ...event, tags })
    if (event.keyId && event.outcome !== 'NOT_FOUND') this.lastUsed.set(event.keyId, event.time)
    // A full buffer is written at once rather than waiting for the timer; the verification does not wait for it.
    if (this.events.length >= this.maxBuffered && !this.flushing) this.flush().catch(this.onError)
  }

  /** Pending last-used time of a key, newer than the stored one. */
  pendingLastUsed(keyId: string): number | undefined {
    return this.lastUsed.get(keyId)
  }

  get buffered(): number {
    return this.events.length
  }

  /** Writes what is buffered. On failure it stays buffered (up to ten buffers' worth) for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = null))
    return this.flushing
  }

  private async write(): Promise<void> {
    if (this.events.length === 0 && this.lastUsed.size === 0) return
    const events = this.events
    const lastUsed = [...this.lastUsed]
    this.events = []
    this.lastUsed.clear()
    try {
      await this.stores.transaction(async () => {
        await this.stores.verificationEvents.insertMany(events)
        await this.stores.keys.touchLastUsed(lastUsed)
      })
    } catch (error) {
      this.requeue(events, lastUsed)
      throw error
    }
  }

  private requeue(events: VerificationEvent[], lastUsed: [string, number][]): void {
    const kept = [...events, ...this.events]
    const limit = this.maxBuffered * 10
    if (kept.length > limit) {
      this.onError(new Error(`${kept.length - limit} verification events dropped: the database could not be written`))
      kept.splice(0, kept.length - limit)
    }
    this.events = kept
    for (const [keyId, at] of lastUsed) if ((this.lastUsed.get(keyId) ?? 0) < at) this.lastUsed.set(keyId, at)
  }

  /** Deletes events older than `before` (unix ms), a slice at a time so that no single write holds the database long. */
  async prune(before: number): Promise<number> {
    let total = 0
    for (;;) {
      const removed = await this.stores.verificationEvents.deleteBefore(before, 5_000)
      total += removed
      if (removed < 5_000) return total
    }
  }
}
