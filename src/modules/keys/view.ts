// How a key is shown in responses: optional fields are omitted when empty,
// never sent as null (the official SDK rejects null), except
// `credits.remaining`, where null means unlimited.
import { identityView } from '../identities/view'
import { ratelimitView } from '../ratelimit/view'
import type { LoadedKey } from './loader'
import { refillView } from './refill'

export function creditsView(key: LoadedKey) {
  const refill = refillView(key)
  if (key.remaining === null && !refill) return undefined
  return { remaining: key.remaining, ...(refill ? { refill } : {}) }
}

export function keyView(key: LoadedKey, plaintext?: string) {
  const credits = creditsView(key)
  return {
    keyId: key.id,
    start: key.start,
    enabled: key.enabled,
    ...(key.name !== null ? { name: key.name } : {}),
    ...(key.meta !== null ? { meta: key.meta } : {}),
    createdAt: key.createdAt,
    ...(key.updatedAt !== null ? { updatedAt: key.updatedAt } : {}),
    ...(key.lastUsedAt !== null ? { lastUsedAt: key.lastUsedAt } : {}),
    ...(key.expiresAt !== null ? { expires: key.expiresAt } : {}),
    ...(key.access.permissions.length ? { permissions: key.access.permissions } : {}),
    ...(key.access.roles.length ? { roles: key.access.roles } : {}),
    ...(credits ? { credits } : {}),
    ...(key.identity ? { identity: identityView(key.identity) } : {}),
    ...(plaintext !== undefined ? { plaintext } : {}),
    ...(key.ratelimits.length ? { ratelimits: key.ratelimits.map(ratelimitView) } : {}),
  }
}
