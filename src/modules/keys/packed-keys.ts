// The compact half of the key cache (./cache.ts): keys held as one string
// each instead of an object with its strings and two map entries. A million
// cached keys as objects cost about 0.5 KB each, and JavaScriptCore lets its
// heap grow to about twice its live data before a full collection, so the
// process passed 1.5 GB; a packed key is one string and two number-keyed map
// entries, about half that, and one heap cell instead of four (a full
// collection marks a quarter as much).
//
// A record is `${hash}\0${id}\0${workspace}\0${rest}`, where `workspace` is a
// number this class gives each workspace it holds keys of, and `rest` is the
// codec's (./cache.ts, KeyCodec). Records are found by a number made from the hash (per workspace)
// or from the id (for invalidateKey), and every candidate is checked against
// the whole hash or id, so two strings that make the same number only share a
// map entry (an array of records).

const SEPARATOR = '\u0000'

/** A 52-bit number from a string (two 26-bit FNV-1a hashes): exact as a double, so usable as a map key. */
export function numberOf(text: string): number {
  let a = 0x811c9dc5 & 0x3ffffff
  let b = 0x1000193
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x1000193) & 0x3ffffff
    b = Math.imul(b ^ c, 0x5bd1e995) & 0x3ffffff
  }
  return a * 0x4000000 + b
}

/**
 * The map key of a hash: its first 8 characters as a number (base 80; a key hash is base64, whose
 * alphabet spans 80 character codes, all apart modulo 80), about 48 random bits of a SHA-256.
 */
function hashNumber(hash: string): number {
  if (hash.length < 8) return numberOf(hash)
  let n = 0
  for (let i = 0; i < 8; i++) n = n * 80 + (hash.charCodeAt(i) % 80)
  return n
}

export const holdsHash = (record: string, hash: string): boolean => record.startsWith(hash) && record.charCodeAt(hash.length) === 0

/** The id of a record whose hash is `hashLength` long, and where the codec's part starts. */
export function recordParts(record: string, hashLength: number): { id: string; rest: number } {
  const end = record.indexOf(SEPARATOR, hashLength + 1)
  return { id: record.slice(hashLength + 1, end), rest: record.indexOf(SEPARATOR, end + 1) + 1 }
}

const idOf = (record: string): string => {
  const start = record.indexOf(SEPARATOR) + 1
  return record.slice(start, record.indexOf(SEPARATOR, start))
}

/** The workspace number of a record. */
const workspaceOf = (record: string): number => {
  const start = record.indexOf(SEPARATOR, record.indexOf(SEPARATOR) + 1) + 1
  return Number(record.slice(start, record.indexOf(SEPARATOR, start)))
}

type Slot = string | string[]

function find(map: Map<number, Slot>, n: number, match: (record: string) => boolean): string | undefined {
  const slot = map.get(n)
  if (slot === undefined) return undefined
  if (typeof slot === 'string') return match(slot) ? slot : undefined
  return slot.find(match)
}

function add(map: Map<number, Slot>, n: number, record: string): void {
  const slot = map.get(n)
  if (slot === undefined) map.set(n, record)
  else if (typeof slot === 'string') map.set(n, [slot, record])
  else slot.push(record)
}

function remove(map: Map<number, Slot>, n: number, record: string): void {
  const slot = map.get(n)
  if (slot === record) map.delete(n)
  else if (Array.isArray(slot)) {
    const rest = slot.filter((r) => r !== record)
    if (rest.length === 0) map.delete(n)
    else map.set(n, rest.length === 1 ? rest[0]! : rest)
  }
}

/**
 * Drops the oldest tenth (a Map keeps insertion order, which is age) of every workspace's map,
 * and the maps left empty; `dropped` hears each entry that goes. Both halves of the key cache evict so.
 */
export function dropOldestTenth<S, V>(workspaces: Map<string, Map<S, V>>, dropped: (value: V) => void): void {
  for (const [workspaceId, slots] of workspaces) {
    let n = Math.ceil(slots.size / 10)
    for (const [at, value] of slots) {
      if (n-- <= 0) break
      slots.delete(at)
      dropped(value)
    }
    if (slots.size === 0) workspaces.delete(workspaceId)
  }
}

/** The records of a map entry (one, or several whose strings made the same number). */
const recordsOf = (slot: Slot): readonly string[] => (typeof slot === 'string' ? [slot] : slot)

export class PackedKeys {
  /** Per workspace: hash number -> record(s). A Map keeps insertion order, which is age. */
  private readonly workspaces = new Map<string, Map<number, Slot>>()
  /** Id number -> record(s), over every workspace. */
  private readonly byId = new Map<number, Slot>()
  /** Workspace id -> its number in records, and back (never reused until `clear`). */
  private readonly workspaceNumbers = new Map<string, number>()
  private readonly workspaceIds: string[] = []
  private count = 0

  get size(): number {
    return this.count
  }

  /** The record of `hash` in the workspace. */
  get(workspaceId: string, hash: string): string | undefined {
    const slots = this.workspaces.get(workspaceId)
    return slots && find(slots, hashNumber(hash), (r) => holdsHash(r, hash))
  }

  /** Holds a key; the caller has dropped whatever sat at its hash or under its id. */
  add(workspaceId: string, hash: string, id: string, rest: string): void {
    let workspace = this.workspaceNumbers.get(workspaceId)
    if (workspace === undefined) {
      workspace = this.workspaceIds.push(workspaceId) - 1
      this.workspaceNumbers.set(workspaceId, workspace)
    }
    // Joined, not concatenated: a concatenation would be a rope holding on to its parts.
    const record = [hash, id, workspace, rest].join(SEPARATOR)
    let slots = this.workspaces.get(workspaceId)
    if (!slots) {
      slots = new Map()
      this.workspaces.set(workspaceId, slots)
    }
    add(slots, hashNumber(hash), record)
    add(this.byId, numberOf(id), record)
    this.count++
  }

  /** Drops the key with this id, wherever it is held. */
  dropId(keyId: string): void {
    const n = numberOf(keyId)
    const record = find(this.byId, n, (r) => idOf(r) === keyId)
    if (record === undefined) return
    remove(this.byId, n, record)
    const workspaceId = this.workspaceIds[workspaceOf(record)]!
    const slots = this.workspaces.get(workspaceId)!
    remove(slots, hashNumber(record.slice(0, record.indexOf(SEPARATOR))), record)
    if (slots.size === 0) this.workspaces.delete(workspaceId)
    this.count--
  }

  /** Drops whatever key is held at this hash of the workspace. */
  dropAt(workspaceId: string, hash: string): void {
    const slots = this.workspaces.get(workspaceId)
    if (!slots) return
    const at = hashNumber(hash)
    const record = find(slots, at, (r) => holdsHash(r, hash))
    if (record === undefined) return
    remove(slots, at, record)
    if (slots.size === 0) this.workspaces.delete(workspaceId)
    this.unindex(record)
  }

  dropWorkspace(workspaceId: string): void {
    const slots = this.workspaces.get(workspaceId)
    if (!slots) return
    this.workspaces.delete(workspaceId)
    for (const slot of slots.values()) for (const record of recordsOf(slot)) this.unindex(record)
  }

  /** Drops the oldest tenth of every workspace's keys. */
  evictOldest(): void {
    dropOldestTenth(this.workspaces, (slot) => {
      for (const record of recordsOf(slot)) this.unindex(record)
    })
  }

  clear(): void {
    this.workspaces.clear()
    this.byId.clear()
    this.workspaceNumbers.clear()
    this.workspaceIds.length = 0
    this.count = 0
  }

  private unindex(record: string): void {
    remove(this.byId, numberOf(idOf(record)), record)
    this.count--
  }
}
