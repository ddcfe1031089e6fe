// Keys held packed (src/modules/keys/packed-keys.ts): the cache's two tiers
// side by side, records whose map numbers collide, and the codec of
// verifiable keys (loader.ts), which must give back exactly the key it packed
// or refuse to pack it. Every invalidation rule is also run on packed keys in
// cache.test.ts, and over HTTP by the keys tests under LATCH_TEST_KEY_OBJECTS=0.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { KeyCache, type KeyCodec } from '../../../src/modules/keys/cache'
import { loadedKeyCodec } from '../../../src/modules/keys/loaded-key-codec'
import { type LoadedKey, NO_ACCESS, NO_PERMISSIONS, NO_RATELIMITS } from '../../../src/modules/keys/loader'
import { Harness } from '../../support/harness'

interface Key {
  id: string
  workspaceId: string
  hash: string
  /** Only keys without it may be packed. */
  state?: number
}

const codec: KeyCodec<Key> = {
  pack: (key) => (key.state === undefined ? '' : null),
  unpack: (_record, _at, id, workspaceId, hash) => ({ id, workspaceId, hash }),
}

describe('KeyCache with both tiers', () => {
  test('keys past the object bound are packed; a key the codec refuses stays an object; both are served and counted', () => {
    const cache = new KeyCache<Key>(1_000, { codec, objects: 2 })
    for (let i = 1; i <= 4; i++) cache.set('ws_a', `hash_${i}`, { id: `key_${i}`, workspaceId: 'ws_a', hash: `hash_${i}` })
    const stateful = { id: 'key_5', workspaceId: 'ws_a', hash: 'hash_5', state: 1 }
    cache.set('ws_a', 'hash_5', stateful)
    expect([cache.size, cache.packedSize]).toEqual([5, 2])
    expect(cache.peek('ws_a', 'hash_1')).toEqual({ id: 'key_1', workspaceId: 'ws_a', hash: 'hash_1' })
    expect(cache.peek('ws_a', 'hash_4')).toEqual({ id: 'key_4', workspaceId: 'ws_a', hash: 'hash_4' })
    expect(cache.peek('ws_a', 'hash_5')).toBe(stateful)
    expect(cache.peek('ws_b', 'hash_4')).toBeUndefined()
  })

  test('every invalidation reaches a packed key, and a key moving between tiers is held once', () => {
    const cache = new KeyCache<Key>(1_000, { codec, objects: 1 })
    const k = (n: number, ws = 'ws_a') => ({ id: `key_${n}`, workspaceId: ws, hash: `hash_${n}` })
    for (let i = 1; i <= 4; i++) cache.set('ws_a', `hash_${i}`, k(i))
    cache.set('ws_b', 'hash_9', k(9, 'ws_b'))
    cache.invalidateKey('key_2')
    cache.invalidateHash('ws_a', 'hash_3')
    expect([1, 2, 3, 4].map((i) => cache.peek('ws_a', `hash_${i}`) !== undefined)).toEqual([true, false, false, true])
    cache.invalidateWorkspace('ws_a')
    expect([cache.size, cache.packedSize]).toEqual([1, 1])
    // The id index forgot ws_a's packed keys: invalidating one of them drops nothing else.
    cache.invalidateKey('key_4')
    expect(cache.peek('ws_b', 'hash_9')).toEqual(k(9, 'ws_b'))
    // The packed key_9 cached again as an object (it took on state), then under a new hash.
    cache.clear()
    cache.set('ws_a', 'hash_0', k(0))
    cache.set('ws_b', 'hash_9', k(9, 'ws_b'))
    cache.set('ws_b', 'hash_9', { ...k(9, 'ws_b'), state: 2 })
    expect([cache.size, cache.packedSize]).toEqual([2, 0])
    // Stateless again and under a new hash: packed (key_0 fills the object tier), and gone from the old hash.
    cache.set('ws_b', 'hash_9b', { ...k(9, 'ws_b'), hash: 'hash_9b' })
    expect([cache.peek('ws_b', 'hash_9'), cache.size, cache.packedSize]).toEqual([undefined, 2, 1])
  })

  test('the bound counts both tiers, and eviction takes the oldest tenth of each', () => {
    const cache = new KeyCache<Key>(100, { codec, objects: 50 })
    for (let i = 1; i <= 100; i++) cache.set('ws_a', `hash_${i}`, { id: `key_${i}`, workspaceId: 'ws_a', hash: `hash_${i}` })
    expect([cache.size, cache.packedSize]).toEqual([100, 50])
    cache.set('ws_a', 'hash_101', { id: 'key_101', workspaceId: 'ws_a', hash: 'hash_101' })
    // 5 objects (1-5) and 5 packed keys (51-55) went; the new key is an object again.
    expect([cache.size, cache.packedSize]).toEqual([91, 45])
    expect([1, 6, 51, 56, 101].map((i) => cache.peek('ws_a', `hash_${i}`) !== undefined)).toEqual([false, true, false, true, true])
  })

  test('invalidateKey finds a packed key in its own workspace among many, and drops only it', () => {
    const cache = new KeyCache<Key>(1_000, { codec, objects: 0 })
    for (let w = 0; w < 50; w++) cache.set(`ws_${w}`, 'hash_same', { id: `key_${w}`, workspaceId: `ws_${w}`, hash: 'hash_same' })
    cache.invalidateKey('key_37')
    expect(cache.peek('ws_37', 'hash_same')).toBeUndefined()
    expect([cache.peek('ws_36', 'hash_same')?.id, cache.peek('ws_38', 'hash_same')?.id, cache.size]).toEqual(['key_36', 'key_38', 49])
    // The workspace's number is kept: a key cached there again is found and dropped the same way.
    cache.set('ws_37', 'hash_again', { id: 'key_37b', workspaceId: 'ws_37', hash: 'hash_again' })
    cache.invalidateKey('key_37b')
    expect([cache.peek('ws_37', 'hash_again'), cache.size]).toEqual([undefined, 49])
  })

  test('records whose hashes make the same map number stay apart', () => {
    const cache = new KeyCache<Key>(1_000, { codec, objects: 0 })
    // The map number of a hash is its first 8 characters.
    const hashes = ['AAAAAAAA1', 'AAAAAAAA2', 'AAAAAAAA3']
    for (const [i, hash] of hashes.entries()) cache.set('ws_a', hash, { id: `key_${i}`, workspaceId: 'ws_a', hash })
    expect(hashes.map((hash) => cache.peek('ws_a', hash)?.id)).toEqual(['key_0', 'key_1', 'key_2'])
    expect(cache.peek('ws_a', 'AAAAAAAA4')).toBeUndefined()
    cache.invalidateHash('ws_a', 'AAAAAAAA2')
    cache.invalidateKey('key_0')
    expect(hashes.map((hash) => cache.peek('ws_a', hash)?.id)).toEqual([undefined, undefined, 'key_2'])
    expect(cache.size).toBe(1)
  })
})

const plain: LoadedKey = {
  id: 'key_3xYz',
  workspaceId: 'ws_1',
  apiId: 'api_9',
  hash: 'Dy0avfNjuZl90vmI48U3SYwIme8T+TtuuFDA/9J+NKk=',
  start: 'sk_a',
  name: null,
  meta: null,
  enabled: true,
  expiresAt: null,
  remaining: null,
  refillAmount: null,
  refillDay: null,
  lastRefillAt: null,
  encrypted: null,
  createdAt: 1_781_000_000_123,
  updatedAt: null,
  lastUsedAt: null,
  identity: null,
  access: NO_ACCESS,
  permissionSet: NO_PERMISSIONS,
  ratelimits: NO_RATELIMITS,
}

/** The key after a trip through the codec, as the cache would give it back. */
function roundTrip(key: LoadedKey): LoadedKey {
  const rest = loadedKeyCodec.pack(key)
  if (rest === null) throw new Error('not packed')
  const record = [key.hash, key.id, 0, rest].join('\u0000')
  return loadedKeyCodec.unpack(record, key.hash.length + key.id.length + 4, key.id, key.workspaceId, key.hash)
}

describe('loadedKeyCodec', () => {
  test('gives back every field of a plain key, in the same order', () => {
    const back = roundTrip(plain)
    expect(back).toEqual(plain)
    expect(Object.keys(back)).toEqual(Object.keys(plain))
  })

  test('names with separators and any text, meta of any JSON, and every time field survive', () => {
    const keys: LoadedKey[] = [
      { ...plain, name: 'a\u0000b\u00001', meta: { nested: { list: [1, 'x\u0000', null] }, emoji: '🔑' } },
      { ...plain, name: '', meta: {} },
      { ...plain, name: 'ключ ✓', enabled: false, expiresAt: 1_781_000_999_000, updatedAt: 1_781_000_000_500, lastUsedAt: 0 },
      { ...plain, name: null, meta: { a: '1\u00002' } },
    ]
    for (const key of keys) expect(roundTrip(key)).toEqual(key)
  })

  test('refuses every key with state or parts beyond itself', () => {
    const refused: Partial<LoadedKey>[] = [
      { identity: { id: 'id_1', externalId: 'u', meta: null, ratelimits: [] } },
      { access: { permissions: ['p'], roles: [] }, permissionSet: new Set(['p']) },
      { ratelimits: [{ id: 'rl_1', name: 'r', limit: 1, duration: 1000, autoApply: true }] as LoadedKey['ratelimits'] },
      { remaining: 5 },
      { refillAmount: 10 },
      { refillDay: 3 },
      { lastRefillAt: 1 },
      { encrypted: 'ciphertext' },
      { start: '' },
      { start: 'a\u0000b' },
      { hash: 'AAAAAAAA\u0000x' },
    ]
    for (const change of refused) expect(loadedKeyCodec.pack({ ...plain, ...change })).toBeNull()
  })
})

describe('packed keys over the API (keyCacheObjectEntries 0: every plain key is packed)', () => {
  let h: Harness
  let root: string
  let apiId: string
  beforeEach(async () => {
    h = new Harness({ tunables: { keyCacheObjectEntries: 0 } })
    root = await h.rootKey('ws')
    apiId = (await h.ok('apis.createApi', { name: 'main' }, root)).apiId
  })
  afterEach(() => h.close())

  const verify = (body: unknown, rootKey = root) => h.ok('keys.verifyKey', body, rootKey)

  test('a packed key verifies with every field, and each change to it is seen at once', async () => {
    const { key, keyId } = await h.ok('keys.createKey', { apiId, name: 'n ✓', meta: { plan: 'pro', n: [1, 2] }, expires: h.clock.now() + 60_000 }, root)
    const first = await verify({ key })
    expect(h.services.keyCache.packedSize).toBe(1)
    const expected = { valid: true, code: 'VALID', keyId, name: 'n ✓', meta: { plan: 'pro', n: [1, 2] }, expires: h.clock.now() + 60_000, enabled: true }
    expect(first).toEqual(expected)
    // Answered from the packed record.
    expect(await verify({ key })).toEqual(expected)

    await h.ok('keys.updateKey', { keyId, name: 'renamed', enabled: false }, root)
    expect(await verify({ key })).toEqual({ ...expected, name: 'renamed', enabled: false, valid: false, code: 'DISABLED' })
    await h.ok('keys.updateKey', { keyId, enabled: true }, root)
    // Permissions make it an object; removing them packs it again.
    await h.ok('keys.addPermissions', { keyId, permissions: ['documents.read'] }, root)
    expect((await verify({ key, permissions: 'documents.read' })).code).toBe('VALID')
    expect(h.services.keyCache.packedSize).toBe(0)
    await h.ok('keys.removePermissions', { keyId, permissions: ['documents.read'] }, root)
    expect((await verify({ key, permissions: 'documents.read' })).code).toBe('INSUFFICIENT_PERMISSIONS')
    expect(h.services.keyCache.packedSize).toBe(1)
    h.clock.advance(60_000)
    expect((await verify({ key })).code).toBe('EXPIRED')
    await h.ok('keys.deleteKey', { keyId }, root)
    expect(await verify({ key })).toEqual({ valid: false, code: 'NOT_FOUND' })
  })

  test('a packed key is never answered to another workspace, and a change to its identity or API reaches it', async () => {
    const { key, keyId } = await h.ok('keys.createKey', { apiId }, root)
    expect((await verify({ key })).code).toBe('VALID')
    const other = await h.rootKey('other')
    expect(await verify({ key }, other)).toEqual({ valid: false, code: 'NOT_FOUND' })
    await h.ok('keys.updateKey', { keyId, externalId: 'user_1' }, root)
    expect((await verify({ key })).identity).toEqual({ id: expect.stringMatching(/^id_/), externalId: 'user_1' })
    await h.ok('keys.updateKey', { keyId, externalId: null }, root)
    expect((await verify({ key })).identity).toBeUndefined()
    expect(h.services.keyCache.packedSize).toBe(1)
    await h.ok('apis.deleteApi', { apiId }, root)
    expect(await verify({ key })).toEqual({ valid: false, code: 'NOT_FOUND' })
  })
})
