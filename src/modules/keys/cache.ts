// In-memory cache of verifiable keys, keyed by workspace and key hash (hashes
// are unique per workspace only, and a lookup never sees another workspace's
// keys), so that a warm verifyKey never reads the store. Invalidation:
//   - a key's own mutations drop its entry (invalidateKey / invalidateHash);
//   - changes that can touch many keys (an identity, a role, a permission, an
//     API) drop every key of the workspace at once.
// Either way the very next verify reloads from the store. `epoch` moves on
// every invalidation, so that a load that was under way when something
// changed is not cached (it may hold the state from before the change).
// Every invalidation is one `KeyCacheChange` applied by `apply`, whether it was
// made here or announced by another node (cluster mode, src/cluster/): the
// `announce` hook hears the local ones.
//
// A store of a million keys is meant to fit whole, so an entry costs only what
// it must: one map per workspace, keyed by the key's own `hash` string (no
// composite key string, no wrapper object), and one index from key id to the
// key. Past `objects` keys, a key the codec can pack is held as one string
// (./packed-keys.ts) and rebuilt by each read: half the memory, and the keys
// that carry changing state (a credit balance) stay objects. Absences (a hash
// no key has) are held apart and bounded to a tenth of the keys, so that a
// stream of unknown keys cannot push real keys out.
import { dropOldestTenth, PackedKeys, recordParts } from './packed-keys'

export interface CacheableKey {
  id: string
  workspaceId: string
  hash: string
}

/** One invalidation, as applied here and as sent to the other nodes of a cluster. */
export type KeyCacheChange = { kind: 'key'; keyId: string } | { kind: 'hash'; workspaceId: string; hash: string } | { kind: 'workspace'; workspaceId: string }

/** The map key of a (workspace, hash) pair; workspace ids never contain a space. */
export const cacheSlot = (workspaceId: string, hash: string): string => `${workspaceId} ${hash}`

/** How a key is held as a string: only keys whose every read may get a fresh copy. */
export interface KeyCodec<K> {
  /** All of `key` but its id and hash, as one string; null when the key must stay an object. */
  pack(key: K): string | null
  /** The key back from `record` (its codec part starts at `at`), with its id, workspace and hash. */
  unpack(record: string, at: number, id: string, workspaceId: string, hash: string): K
}

export interface KeyPacking<K> {
  codec: KeyCodec<K>
  /** Keys held as objects before packable ones are packed. */
  objects: number
}

export class KeyCache<K extends CacheableKey> {
  /** Per workspace: hash -> key. A Map keeps insertion order, which is age. */
  private readonly workspaces = new Map<string, Map<string, K>>()
  /** Key id -> the cached key, which sits at (key.workspaceId, key.hash). */
  private readonly byId = new Map<string, K>()
  /** cacheSlot(workspaceId, hash) of hashes known to belong to no live key. */
  private readonly absent = new Set<string>()
  private readonly packed = new PackedKeys()
  /** Keys held as objects. */
  private keyCount = 0
  private changes = 0
  private readonly maxAbsent: number
  /** Told of every invalidation made through this cache's own methods (not of those `apply` receives). */
  announce: ((change: KeyCacheChange) => void) | null = null

  constructor(
    private readonly maxEntries = 1_000_000,
    private readonly packing: KeyPacking<K> | null = null,
  ) {
    this.maxAbsent = Math.max(1, Math.floor(maxEntries / 10))
  }

  /** Moves on every invalidation. */
  get epoch(): number {
    return this.changes
  }

  /** The cached key (or cached absence, null) for `hash` in the workspace; undefined when not cached. */
  peek(workspaceId: string, hash: string): K | null | undefined {
    const key = this.workspaces.get(workspaceId)?.get(hash)
    if (key !== undefined) return key
    if (this.packed.size > 0) {
      const record = this.packed.get(workspaceId, hash)
      if (record !== undefined) {
        const { id, rest } = recordParts(record, hash.length)
        return this.packing!.codec.unpack(record, rest, id, workspaceId, hash)
      }
    }
    return this.absent.size > 0 && this.absent.has(cacheSlot(workspaceId, hash)) ? null : undefined
  }

  /** Caches `key` (or its absence) for `hash` in the workspace. */
  set(workspaceId: string, hash: string, key: K | null): void {
    if (key === null) {
      if (this.absent.size >= this.maxAbsent) evictOldest(this.absent, Math.ceil(this.maxAbsent / 10))
      this.absent.add(cacheSlot(workspaceId, hash))
      return
    }
    // A key is held only at its own slot, where invalidateKey finds it; one found any other way is not kept.
    if (key.workspaceId !== workspaceId || key.hash !== hash) return
    this.dropKey(key.id)
    this.dropAt(workspaceId, hash)
    if (this.absent.size > 0) this.absent.delete(cacheSlot(workspaceId, hash))
    if (this.keyCount + this.packed.size >= this.maxEntries) this.evict()
    if (this.packing !== null && this.keyCount >= this.packing.objects) {
      const rest = this.packing.codec.pack(key)
      if (rest !== null) {
        this.packed.add(workspaceId, hash, key.id, rest)
        return
      }
    }
    let slots = this.workspaces.get(workspaceId)
    if (!slots) {
      slots = new Map()
      this.workspaces.set(workspaceId, slots)
    }
    // The key's own hash string is the map key: the lookup's copy is not retained.
    slots.set(key.hash, key)
    this.byId.set(key.id, key)
    this.keyCount++
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
      this.dropKey(change.keyId)
    } else if (change.kind === 'hash') {
      this.dropAt(change.workspaceId, change.hash)
      this.absent.delete(cacheSlot(change.workspaceId, change.hash))
    } else {
      // Absences stay: no change of an identity, a permission or an API makes a key exist.
      this.packed.dropWorkspace(change.workspaceId)
      const slots = this.workspaces.get(change.workspaceId)
      if (!slots) return
      this.workspaces.delete(change.workspaceId)
      this.keyCount -= slots.size
      for (const key of slots.values()) this.unindex(key)
    }
  }

  clear(): void {
    this.changes++
    this.workspaces.clear()
    this.byId.clear()
    this.absent.clear()
    this.packed.clear()
    this.keyCount = 0
  }

  /** Keys and absences held. */
  get size(): number {
    return this.keyCount + this.packed.size + this.absent.size
  }

  /** Keys held packed (of `size`). */
  get packedSize(): number {
    return this.packed.size
  }

  /** Drops `key` from the id index, unless the index holds another copy. */
  private unindex(key: K): void {
    if (this.byId.get(key.id) === key) this.byId.delete(key.id)
  }

  /** Drops the cached key with this id from its slot. */
  private dropKey(keyId: string): void {
    if (this.packed.size > 0) this.packed.dropId(keyId)
    const key = this.byId.get(keyId)
    if (key === undefined) return
    this.byId.delete(keyId)
    const slots = this.workspaces.get(key.workspaceId)
    if (slots?.get(key.hash) === key) {
      slots.delete(key.hash)
      this.keyCount--
    }
  }

  /** Drops whatever key sits at this slot. */
  private dropAt(workspaceId: string, hash: string): void {
    if (this.packed.size > 0) this.packed.dropAt(workspaceId, hash)
    const slots = this.workspaces.get(workspaceId)
    const key = slots?.get(hash)
    if (key === undefined) return
    slots!.delete(hash)
    this.keyCount--
    this.unindex(key)
  }

  /** Drops the oldest tenth of every workspace's keys. */
  private evict(): void {
    this.packed.evictOldest()
    dropOldestTenth(this.workspaces, (key) => {
      this.keyCount--
      this.unindex(key)
    })
  }
}

/** Drops the first `n` members of a set (a Set keeps insertion order). */
function evictOldest(set: Set<string>, n: number): void {
  for (const member of set) {
    if (n-- <= 0) break
    set.delete(member)
  }
}
