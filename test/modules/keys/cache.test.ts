// The verification cache (src/modules/keys/cache.ts) on its own: what each
// invalidation drops, that its bound holds, and that its id index never keeps
// a key it no longer serves (which would let a later invalidation miss it, or
// hold its memory). The routes' view of the same rules is in verifyKey.test.ts,
// deleteKey.test.ts and the other keys tests.
import { describe, expect, test } from 'bun:test'
import { KeyCache, type KeyCodec, type KeyPacking } from '../../../src/modules/keys/cache'

interface Key {
  id: string
  workspaceId: string
  hash: string
}

const key = (n: number, workspaceId = 'ws_a'): Key => ({ id: `key_${n}`, workspaceId, hash: `hash_${n}` })

/** Packs every key: the record holds its id and hash already, so nothing else. */
const codec: KeyCodec<Key> = { pack: () => '', unpack: (_record, _at, id, workspaceId, hash) => ({ id, workspaceId, hash }) }

// Every rule holds alike for keys held as objects and for keys held packed (./packed-keys.test.ts has the mix).
describe.each([
  ['objects', null],
  ['packed', { codec, objects: 0 }],
] as [string, KeyPacking<Key> | null][])('KeyCache, keys held as %s', (_mode, packing) => {
  /** A cache holding keys 1..n of workspace `ws_a`. */
  function filled(n: number, maxEntries = 1_000): KeyCache<Key> {
    const cache = new KeyCache<Key>(maxEntries, packing)
    for (let i = 1; i <= n; i++) cache.set('ws_a', `hash_${i}`, key(i))
    return cache
  }

  test('a key is served from its own slot only: never to another workspace, never under another hash', () => {
    const cache = filled(1)
    expect(cache.peek('ws_a', 'hash_1')).toEqual(key(1))
    expect(cache.peek('ws_b', 'hash_1')).toBeUndefined()
    cache.set('ws_a', 'hash_other', key(2))
    cache.set('ws_b', 'hash_3', key(3))
    expect(cache.peek('ws_a', 'hash_other')).toBeUndefined()
    expect(cache.peek('ws_b', 'hash_3')).toBeUndefined()
    expect(cache.size).toBe(1)
  })

  test('invalidateKey drops the key, invalidateHash drops a key or a cached absence', () => {
    const cache = filled(2)
    cache.set('ws_a', 'hash_unknown', null)
    expect(cache.peek('ws_a', 'hash_unknown')).toBeNull()
    cache.invalidateKey('key_1')
    cache.invalidateHash('ws_a', 'hash_2')
    cache.invalidateHash('ws_a', 'hash_unknown')
    expect([cache.peek('ws_a', 'hash_1'), cache.peek('ws_a', 'hash_2'), cache.peek('ws_a', 'hash_unknown')]).toEqual([undefined, undefined, undefined])
    expect(cache.size).toBe(0)
  })

  test('invalidateWorkspace drops every key of that workspace and nothing of another; absences stay absent', () => {
    const cache = filled(3)
    cache.set('ws_a', 'hash_unknown', null)
    cache.set('ws_b', 'hash_9', key(9, 'ws_b'))
    cache.invalidateWorkspace('ws_a')
    expect([1, 2, 3].map((i) => cache.peek('ws_a', `hash_${i}`))).toEqual([undefined, undefined, undefined])
    expect(cache.peek('ws_a', 'hash_unknown')).toBeNull()
    expect(cache.peek('ws_b', 'hash_9')).toEqual(key(9, 'ws_b'))
    expect(cache.size).toBe(2)
    // The id index forgot them too: invalidating one later changes nothing else.
    cache.invalidateKey('key_1')
    expect(cache.size).toBe(2)
  })

  test('a key cached where an absence was replaces it, and is not answered as absent once invalidated', () => {
    const cache = filled(0)
    cache.set('ws_a', 'hash_1', null)
    cache.set('ws_a', 'hash_1', key(1))
    expect(cache.peek('ws_a', 'hash_1')).toEqual(key(1))
    cache.invalidateKey('key_1')
    expect(cache.peek('ws_a', 'hash_1')).toBeUndefined()
  })

  test('absences are bounded apart, to a tenth of maxEntries: unknown keys never push a key out', () => {
    const cache = filled(100, 100)
    for (let i = 0; i < 1_000; i++) cache.set('ws_a', `hash_unknown_${i}`, null)
    expect([1, 50, 100].map((i) => cache.peek('ws_a', `hash_${i}`))).toEqual([key(1), key(50), key(100)])
    expect(cache.size).toBeLessThanOrEqual(110)
    expect(cache.peek('ws_a', 'hash_unknown_999')).toBeNull()
    expect(cache.peek('ws_a', 'hash_unknown_0')).toBeUndefined()
  })

  test('a key cached again under a new hash leaves nothing at the old one (a migrated key)', () => {
    const cache = filled(1)
    cache.set('ws_a', 'hash_new', { ...key(1), hash: 'hash_new' })
    expect(cache.peek('ws_a', 'hash_1')).toBeUndefined()
    expect(cache.size).toBe(1)
    cache.invalidateKey('key_1')
    expect(cache.peek('ws_a', 'hash_new')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  test('a newer copy of a key replaces the older one, and invalidateKey drops the newer', () => {
    const cache = filled(1)
    const newer = { ...key(1), hash: 'hash_1' }
    cache.set('ws_a', 'hash_1', newer)
    // A packed key is rebuilt by each read: equal, not the same object.
    if (packing) expect(cache.peek('ws_a', 'hash_1')).toEqual(newer)
    else expect(cache.peek('ws_a', 'hash_1')).toBe(newer)
    expect(cache.size).toBe(1)
    cache.invalidateKey('key_1')
    expect(cache.peek('ws_a', 'hash_1')).toBeUndefined()
  })

  test('never holds more than maxEntries: the oldest tenth goes first, and evicted keys leave the id index', () => {
    const cache = filled(100, 100)
    cache.set('ws_a', 'hash_101', key(101))
    expect(cache.size).toBe(91)
    expect([1, 10, 11, 101].map((i) => cache.peek('ws_a', `hash_${i}`) !== undefined)).toEqual([false, false, true, true])
    for (let i = 102; i <= 1_000; i++) cache.set('ws_a', `hash_${i}`, key(i))
    expect(cache.size).toBeLessThanOrEqual(100)
    // An evicted key's invalidation is a no-op; a held key's drops it.
    const before = cache.size
    cache.invalidateKey('key_5')
    expect(cache.size).toBe(before)
    cache.invalidateKey('key_1000')
    expect(cache.size).toBe(before - 1)
  })

  test('epoch moves on every invalidation, also of something not cached', () => {
    const cache = filled(1)
    const epochs = [cache.epoch]
    cache.invalidateKey('key_404')
    epochs.push(cache.epoch)
    cache.invalidateHash('ws_a', 'hash_404')
    epochs.push(cache.epoch)
    cache.invalidateWorkspace('ws_404')
    epochs.push(cache.epoch)
    cache.clear()
    epochs.push(cache.epoch)
    expect(new Set(epochs).size).toBe(5)
  })

  test('apply (a change from another node) drops what the local invalidation would, without announcing it', () => {
    const cache = filled(2)
    const announced: unknown[] = []
    cache.announce = (change) => announced.push(change)
    cache.apply({ kind: 'key', keyId: 'key_1' })
    cache.apply({ kind: 'workspace', workspaceId: 'ws_a' })
    expect(cache.size).toBe(0)
    expect(announced).toEqual([])
    cache.invalidateKey('key_2')
    expect(announced).toEqual([{ kind: 'key', keyId: 'key_2' }])
  })
})
