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

  private readonly onError: (error: unknown) => void

  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'verificationEvents' | 'transaction'>,
    options: { maxBuffered?: number; onError?: (error: unknown) => void } = {},
  ) {
    this.maxBuffered = options.maxBuffered ?? 5_000
    this.onError =
      options.onError ??
      ((error) => process.stderr.write(`${JSON.stringify({ level: 'error', message: 'writing verification events failed', error: String(error) })}\n`))
  }

  record(event: VerificationEvent): void {
    this.events.push(event)
    if (event.keyId && event.outcome !== 'NOT_FOUND') this.lastUsed.set(event.keyId, event.time)
    // A full buffer is written at once rather than waiting for the timer; the verification does not wait for it.
    if (this.events.length >= this.maxBuffered) this.flush().catch(this.onError)
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
