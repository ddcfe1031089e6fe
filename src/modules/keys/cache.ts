// In-memory cache of verifiable keys, keyed by workspace and key hash (hashes
// are unique per workspace only, and a lookup never sees another workspace's
// keys), so that a warm verifyKey never reads the store. Invalidation:
//   - a key's own mutations drop its entry (invalidateKey / invalidateHash);
//   - changes that can touch many keys (an identity, a role, a permission, an
//     API) bump the workspace's generation, which makes every entry of that
//     workspace stale at once.
// Either way the very next verify reloads from the store. `epoch` moves on
// every invalidation, so that a load that was under way when something
// changed is not cached (it may hold the state from before the change).
// Every invalidation is one `KeyCacheChange` applied by `apply`, whether it was
// made here or announced by another node (cluster mode, src/cluster/): the
// `announce` hook hears the local ones.
export interface CacheableKey {
  id: string
  workspaceId: string
  hash: string
}

interface Entry<K> {
  key: K | null
  generation: number
}

/** One invalidation, as applied here and as sent to the other nodes of a cluster. */
export type KeyCacheChange = { kind: 'key'; keyId: string } | { kind: 'hash'; workspaceId: string; hash: string } | { kind: 'workspace'; workspaceId: string }

/** The map key of a (workspace, hash) pair; workspace ids never contain a space. */
export const cacheSlot = (workspaceId: string, hash: string): string => `${workspaceId} ${hash}`

export class KeyCache<K extends CacheableKey> {
  /** By `cacheSlot(workspaceId, hash)`. */
  private readonly bySlot = new Map<string, Entry<K>>()
  private readonly slotById = new Map<string, string>()
  private readonly generations = new Map<string, number>()
  private changes = 0
  /** Told of every invalidation made through this cache's own methods (not of those `apply` receives). */
  announce: ((change: KeyCacheChange) => void) | null = null

  constructor(private readonly maxEntries = 1_000_000) {}

  /** Moves on every invalidation. */
  get epoch(): number {
    return this.changes
  }

  private generationOf(workspaceId: string): number {
    return this.generations.get(workspaceId) ?? 0
  }

  /** The cached key (or cached absence, null) for `hash` in the workspace; undefined when not cached or stale. */
  peek(workspaceId: string, hash: string): K | null | undefined {
    const entry = this.bySlot.get(cacheSlot(workspaceId, hash))
    if (!entry) return undefined
    if (entry.key === null || entry.generation === this.generationOf(entry.key.workspaceId)) return entry.key
    return undefined
  }

  /** Caches `key` (or its absence) for `hash` in the workspace. */
  set(workspaceId: string, hash: string, key: K | null): void {
    if (this.bySlot.size >= this.maxEntries) this.evict()
    const at = cacheSlot(workspaceId, hash)
    this.bySlot.set(at, { key, generation: key ? this.generationOf(key.workspaceId) : 0 })
    if (key) this.slotById.set(key.id, at)
  }

  invalidateKey(keyId: string): void {
    this.invalidate({ kind: 'key', keyId })
  }

  invalidateHash(workspaceId: string, hash: string): void {
    this.invalidate({ kind: 'hash', workspaceId, hash })
  }

  invalidateWorkspace(workspaceId: string): void {
    this.invalidate({ kind: 'workspace', workspaceId })
  }

  private invalidate(change: KeyCacheChange): void {
    this.apply(change)
    this.announce?.(change)
  }

  /** Drops what `change` makes stale: the one code path for local invalidations and those of other nodes. */
  apply(change: KeyCacheChange): void {
    this.changes++
    if (change.kind === 'key') {
      const at = this.slotById.get(change.keyId)
      if (at !== undefined) this.bySlot.delete(at)
      this.slotById.delete(change.keyId)
    } else if (change.kind === 'hash') {
      const at = cacheSlot(change.workspaceId, change.hash)
      const entry = this.bySlot.get(at)
      if (entry?.key) this.slotById.delete(entry.key.id)
      this.bySlot.delete(at)
    } else {
      this.generations.set(change.workspaceId, this.generationOf(change.workspaceId) + 1)
    }
  }

  clear(): void {
    this.changes++
    this.bySlot.clear()
    this.slotById.clear()
  }

  get size(): number {
    return this.bySlot.size
  }

  /** Drops the oldest tenth of the entries (Map keeps insertion order). */
  private evict(): void {
    let n = Math.ceil(this.maxEntries / 10)
    for (const [at, entry] of this.bySlot) {
      if (n-- <= 0) break
      this.bySlot.delete(at)
      if (entry.key) this.slotById.delete(entry.key.id)
    }
  }
}
