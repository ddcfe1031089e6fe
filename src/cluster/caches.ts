// Keeps every node's in-memory caches (verifiable keys, root keys, ratelimit
// namespaces and overrides) true to the shared database. Caches stay local, so
// a warm verification still does no I/O; what crosses nodes is invalidation:
//   - a change made here is applied here and announced on the change bus
//     (after its transaction commits: src/cluster/transactions.ts);
//   - a change heard on the bus goes through the very same `apply` of the cache
//     as a local one;
//   - while the bus is not live (Redis down, this node cut off) nothing heard
//     can be trusted to be complete, so every cache is emptied at once and then
//     every EXPIRY_WHILE_LOST_MS: nothing answered from memory is older than
//     that. When the bus is live again the caches are emptied once more, since
//     changes published meanwhile were never delivered.
// The bound: a change acknowledged at time T is seen by every node by
// T + 1 s. While the bus is live a node hears it within a Redis round trip;
// a silent loss is noticed within LIVE_WINDOW_MS + HEARTBEAT_MS (0.7 s) of the
// last heartbeat that came back, and from then on entries are at most 0.5 s old.
import type { KeyCache, KeyCacheChange } from '../modules/keys/cache'
import type { ChangeBus, ClusterChange } from './bus'
import type { TransactionChanges } from './transactions'

/** While the bus is not live, caches are emptied this often. */
export const EXPIRY_WHILE_LOST_MS = 500

export interface SyncedCaches {
  keys: Pick<KeyCache<{ id: string; workspaceId: string; hash: string }>, 'apply' | 'clear' | 'announce'>
  rootKeys: { dropCache(): void; announceChange: (() => void) | null }
  ratelimits: { forgetNamespace(namespaceId: string): void; forgetAll(): void; announceChange: ((namespaceId: string) => void) | null }
}

export class CacheSync {
  private expiryTimer: ReturnType<typeof setInterval> | null = null

  constructor(
    private readonly bus: ChangeBus,
    private readonly transactions: TransactionChanges,
    private readonly caches: SyncedCaches,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {
    caches.keys.announce = (change) => this.announce(change)
    caches.rootKeys.announceChange = () => this.announce({ kind: 'rootKeys' })
    caches.ratelimits.announceChange = (namespaceId) => this.announce({ kind: 'ratelimitNamespace', namespaceId })
    bus.onChanges((changes) => {
      for (const change of changes) this.apply(change)
    })
    bus.onLiveChange((live) => (live ? this.recovered() : this.lost()))
    if (!bus.live) this.lost()
  }

  /** Applies a change to this node's caches (the same code for local and remote changes). */
  apply(change: ClusterChange): void {
    switch (change.kind) {
      case 'rootKeys':
        this.caches.rootKeys.dropCache()
        return
      case 'ratelimitNamespace':
        this.caches.ratelimits.forgetNamespace(change.namespaceId)
        return
      default:
        this.caches.keys.apply(change satisfies KeyCacheChange)
    }
  }

  /** After a transaction committed: apply its changes again (a load may have raced the commit) and publish them. */
  async afterCommit(changes: ClusterChange[]): Promise<void> {
    for (const change of changes) this.apply(change)
    // The change is committed: a failed publication is retried by the bus, not turned into an error for the caller.
    await this.bus.publish(changes).catch(() => {})
  }

  stop(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer)
    this.expiryTimer = null
  }

  private announce(change: ClusterChange): void {
    const pending = this.transactions.current()
    if (pending) pending.push(change)
    else this.bus.publish([change]).catch(() => {})
  }

  private clearAll(): void {
    this.caches.keys.clear()
    this.caches.rootKeys.dropCache()
    this.caches.ratelimits.forgetAll()
  }

  private lost(): void {
    this.clearAll()
    this.expiryTimer ??= setInterval(() => this.clearAll(), EXPIRY_WHILE_LOST_MS)
  }

  private recovered(): void {
    this.stop()
    this.clearAll()
    this.log('info', 'caches emptied after the change bus came back (changes published meanwhile were missed)')
  }
}
