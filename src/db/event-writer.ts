// Writes batches of events through the stores, on the calling thread: what
// every engine does by default (the SQLite server moves the same work to a
// thread of its own, ./sqlite/event-thread.ts). A batch of verifications and
// the last-used times gathered with it commit together.
import type { Stores } from './stores'
import type { EventWriter } from './stores/analytics'

export function storesEventWriter(stores: Pick<Stores, 'transaction' | 'verificationEvents' | 'ratelimitEvents' | 'keys'>): EventWriter {
  return {
    writeVerifications: (events, lastUsed) =>
      stores.transaction(async () => {
        await stores.verificationEvents.insertMany(events)
        await stores.keys.touchLastUsed(lastUsed)
      }),
    writeRatelimits: (events) => stores.ratelimitEvents.insertMany(events),
    // Each batch commits with its rollups.
    settle: async () => {},
  }
}
