// In-memory cache of verifiable keys, keyed by key hash, so that a warm
// verifyKey never reads SQLite. Invalidation:
//   - a key's own mutations drop its entry (invalidateKey / invalidateHash);
//   - changes that can touch many keys (an identity, a role, a permission, an
//     API) bump the workspace's generation, which makes every entry of that
//     workspace stale at once.
// Either way the very next verify reloads from the database.
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

  constructor(private readonly maxEntries = 1_000_000) {}

  private generationOf(workspaceId: string): number {
    return this.generations.get(workspaceId) ?? 0
  }

  /** The cached key for `hash`, loading it (or its absence) when missing or stale. */
  lookup(hash: string, load: (hash: string) => K | null): K | null {
    const entry = this.byHash.get(hash)
    if (entry && (entry.key === null || entry.generation === this.generationOf(entry.key.workspaceId))) return entry.key
    const key = load(hash)
    if (this.byHash.size >= this.maxEntries) this.evict()
    this.byHash.set(hash, { key, generation: key ? this.generationOf(key.workspaceId) : 0 })
    if (key) this.hashById.set(key.id, hash)
    return key
  }

  /** The cached key with this id, if it is cached and fresh (no loading). */
  peekById(keyId: string): K | null {
    const hash = this.hashById.get(keyId)
    const entry = hash === undefined ? undefined : this.byHash.get(hash)
    if (!entry?.key || entry.generation !== this.generationOf(entry.key.workspaceId)) return null
    return entry.key
  }

  invalidateKey(keyId: string): void {
    const hash = this.hashById.get(keyId)
    if (hash !== undefined) this.byHash.delete(hash)
    this.hashById.delete(keyId)
  }

  invalidateHash(hash: string): void {
    const entry = this.byHash.get(hash)
    if (entry?.key) this.hashById.delete(entry.key.id)
    this.byHash.delete(hash)
  }

  invalidateWorkspace(workspaceId: string): void {
    this.generations.set(workspaceId, this.generationOf(workspaceId) + 1)
  }

  clear(): void {
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
