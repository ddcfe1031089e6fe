// How a key is shown in responses: optional fields are omitted when empty,
// never sent as null (the official SDK rejects null), except
// `credits.remaining`, where null means unlimited.
import type { RatelimitDefinition } from '../ratelimit/definitions'
import { refillView, type IdentityView, type LoadedKey } from './service'

const definitionView = (d: RatelimitDefinition) => ({ id: d.id, name: d.name, limit: d.limit, duration: d.duration, autoApply: d.autoApply })

export function identityView(identity: IdentityView) {
  return {
    id: identity.id,
    externalId: identity.externalId,
    ...(identity.meta ? { meta: identity.meta } : {}),
    ...(identity.ratelimits.length ? { ratelimits: identity.ratelimits.map(definitionView) } : {}),
  }
}

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
    ...(key.ratelimits.length ? { ratelimits: key.ratelimits.map(definitionView) } : {}),
  }
}
