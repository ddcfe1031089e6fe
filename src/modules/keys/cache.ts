// In-memory cache of verifiable keys, keyed by key hash, so that a warm
// verifyKey never reads the store. Invalidation:
//   - a key's own mutations drop its entry (invalidateKey / invalidateHash);
//   - changes that can touch many keys (an identity, a role, a permission, an
//     API) bump the workspace's generation, which makes every entry of that
//     workspace stale at once.
// Either way the very next verify reloads from the store. `epoch` moves on
// every invalidation, so that a load that was under way when something
// changed is not cached (it may hold the state from before the change).
export interface CacheableKey {
  id: string
  workspaceId: string
  hash: string
}

interface Entry<K> {
  key: K | null
  generation: number
}

export class KeyCache<K extends CacheableKey> {
  private readonly byHash = new Map<string, Entry<K>>()
  private readonly hashById = new Map<string, string>()
  private readonly generations = new Map<string, number>()
  private changes = 0

  constructor(private readonly maxEntries = 1_000_000) {}

  /** Moves on every invalidation. */
  get epoch(): number {
    return this.changes
  }

  private generationOf(workspaceId: string): number {
    return this.generations.get(workspaceId) ?? 0
  }

  /** The cached key (or cached absence, null) for `hash`; undefined when not cached or stale. */
  peek(hash: string): K | null | undefined {
    const entry = this.byHash.get(hash)
    if (!entry) return undefined
    if (entry.key === null || entry.generation === this.generationOf(entry.key.workspaceId)) return entry.key
    return undefined
  }

  /** Caches `key` (or its absence) for `hash`. */
  set(hash: string, key: K | null): void {
    if (this.byHash.size >= this.maxEntries) this.evict()
    this.byHash.set(hash, { key, generation: key ? this.generationOf(key.workspaceId) : 0 })
    if (key) this.hashById.set(key.id, hash)
  }

  invalidateKey(keyId: string): void {
    this.changes++
    const hash = this.hashById.get(keyId)
    if (hash !== undefined) this.byHash.delete(hash)
    this.hashById.delete(keyId)
  }

  invalidateHash(hash: string): void {
    this.changes++
    const entry = this.byHash.get(hash)
    if (entry?.key) this.hashById.delete(entry.key.id)
    this.byHash.delete(hash)
  }

  invalidateWorkspace(workspaceId: string): void {
    this.changes++
    this.generations.set(workspaceId, this.generationOf(workspaceId) + 1)
  }

  clear(): void {
    this.changes++
    this.byHash.clear()
    this.hashById.clear()
  }

  get size(): number {
    return this.byHash.size
  }

  /** Drops the oldest tenth of the entries (Map keeps insertion order). */
  private evict(): void {
    let n = Math.ceil(this.maxEntries / 10)
    for (const [hash, entry] of this.byHash) {
      if (n-- <= 0) break
      this.byHash.delete(hash)
      if (entry.key) this.hashById.delete(entry.key.id)
    }
  }
}
