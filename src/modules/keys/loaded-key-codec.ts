// How the key cache (./cache.ts) holds a verifiable key packed in one string
// (./packed-keys.ts), and how it gets the key back: the same object, field for
// field and in the same order, as KeyLoader.build makes.
import type { KeyCodec } from './cache'
import { type LoadedKey, NO_ACCESS, NO_PERMISSIONS, NO_RATELIMITS } from './loader'

/**
 * How the cache packs a key (./packed-keys.ts): only a key with nothing beyond itself (no identity,
 * access, ratelimits, credits or encrypted copy) and a known `start`, since nothing changes such a
 * key in memory and every read may get its own copy. Fields joined by NUL; the name goes last but
 * one with its length before it (so that it may hold anything), and the meta's JSON text is the rest.
 */
export const loadedKeyCodec: KeyCodec<LoadedKey> = {
  pack(key) {
    const plain =
      key.identity === null &&
      key.access === NO_ACCESS &&
      key.ratelimits === NO_RATELIMITS &&
      key.remaining === null &&
      key.refillAmount === null &&
      key.refillDay === null &&
      key.lastRefillAt === null &&
      key.encrypted === null &&
      key.start !== ''
    // The record's fields are NUL-separated (./packed-keys.ts); only the name is length-prefixed.
    if (!plain || `${key.hash}${key.id}${key.apiId}${key.start}`.includes('\u0000')) return null
    const name = key.name ?? ''
    return [
      key.apiId,
      key.start,
      key.enabled ? '1' : '0',
      key.createdAt,
      key.updatedAt ?? '',
      key.expiresAt ?? '',
      key.lastUsedAt ?? '',
      key.name === null ? '' : name.length,
      name + (key.meta === null ? '' : JSON.stringify(key.meta)),
    ].join('\u0000')
  },
  unpack(record, at, id, workspaceId, hash) {
    const next = () => {
      const end = record.indexOf('\u0000', at)
      const field = record.slice(at, end)
      at = end + 1
      return field
    }
    const apiId = next()
    const start = next()
    const enabled = next()
    const createdAt = next()
    const updatedAt = next()
    const expiresAt = next()
    const lastUsedAt = next()
    const nameLength = next()
    const nameEnd = nameLength === '' ? at : at + Number(nameLength)
    return {
      id,
      workspaceId,
      apiId,
      hash,
      start,
      name: nameLength === '' ? null : record.slice(at, nameEnd),
      meta: nameEnd === record.length ? null : JSON.parse(record.slice(nameEnd)),
      enabled: enabled === '1',
      expiresAt: orNull(expiresAt),
      remaining: null,
      refillAmount: null,
      refillDay: null,
      lastRefillAt: null,
      encrypted: null,
      createdAt: Number(createdAt),
      updatedAt: orNull(updatedAt),
      lastUsedAt: orNull(lastUsedAt),
      identity: null,
      access: NO_ACCESS,
      permissionSet: NO_PERMISSIONS,
      ratelimits: NO_RATELIMITS,
    }
  },
}

const orNull = (text: string): number | null => (text === '' ? null : Number(text))
