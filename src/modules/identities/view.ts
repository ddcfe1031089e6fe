// How an identity is shown in responses (identities.* and a key's `identity`):
// optional fields are omitted when empty, never sent as null.
import { ratelimitView } from '../ratelimit/view'
import type { IdentityDetails } from './service'

/** The fields shown; a key's cached identity carries just these. */
export type IdentityViewInput = Pick<IdentityDetails, 'id' | 'externalId' | 'meta' | 'ratelimits'>

export function identityView(identity: IdentityViewInput) {
  return {
    id: identity.id,
    externalId: identity.externalId,
    ...(identity.meta ? { meta: identity.meta } : {}),
    ...(identity.ratelimits.length ? { ratelimits: identity.ratelimits.map(ratelimitView) } : {}),
  }
}
