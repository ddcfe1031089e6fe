// Verification events and last-used times, buffered in memory and written in
// one transaction per batch (on a timer, when the buffer fills, and at
// shutdown), so that verifyKey adds no write per call.
import type { Stores } from '../../db/stores'
import type { VerificationEvent } from '../../db/stores/keys'

export type { VerificationEvent }

export class VerificationLog {
  private events: VerificationEvent[] = []
  private readonly lastUsed = new Map<string, number>()
  private readonly maxBuffered: number

  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'verificationEvents' | 'transaction'>,
    options: { maxBuffered?: number } = {},
  ) {
    this.maxBuffered = options.maxBuffered ?? 5_000
  }

  record(event: VerificationEvent): void {
    this.events.push(event)
    if (event.keyId && event.outcome !== 'NOT_FOUND') this.lastUsed.set(event.keyId, event.time)
    if (this.events.length >= this.maxBuffered) void this.flush().catch(() => {})
  }

  /** Pending last-used time of a key, newer than the stored one. */
  pendingLastUsed(keyId: string): number | undefined {
    return this.lastUsed.get(keyId)
  }

  get buffered(): number {
    return this.events.length
  }

  async flush(): Promise<void> {
    if (this.events.length === 0 && this.lastUsed.size === 0) return
    const events = this.events
    const lastUsed = [...this.lastUsed]
    this.events = []
    this.lastUsed.clear()
    await this.stores.transaction(async () => {
      await this.stores.verificationEvents.insertMany(events)
      await this.stores.keys.touchLastUsed(lastUsed)
    })
  }
}
