// What a root key may do to the root keys of its workspace over HTTP (the CLI,
// the operator at the database, is not bound by this): act within its own
// workspace only, and only on keys whose every permission it holds itself,
// so that no key can hand out, or take over by rotation, more than it has;
// nor can a key that expires issue one that outlives it.
import type { RootKey } from '../../db/stores/rootKeys'
import { forbidden, notFound } from '../../errors'
import { notCovered } from '../../rbac/grants'
import { denied } from '../../rbac/requirements'

/** The root key asking for a change: its workspace and grants (an authenticated principal). */
export interface Issuer {
  rootKeyId: string
  workspaceId: string
  permissions: ReadonlySet<string>
}

export const rootKeyNotFound = () => notFound('key', 'This root key does not exist.')

/** 404 for a key missing or of another workspace; 403 naming the first of its permissions the issuer lacks. */
export function mayActOn(issuer: Issuer, key: RootKey | null): asserts key is RootKey {
  if (!key || key.workspaceId !== issuer.workspaceId) throw rootKeyNotFound()
  mayGrant(issuer, key.permissions)
}

/** 403 naming the first of `permissions` the issuer does not hold. */
export function mayGrant(issuer: Issuer, permissions: readonly string[]): void {
  const [missing] = notCovered(issuer.permissions, permissions)
  if (missing !== undefined) denied([missing])
}

/** 403 when an issuer expiring at `own` would issue a key expiring at `expiresAt` (null: never). */
export function mayOutlive(own: number | null, expiresAt: number | null): void {
  if (own !== null && (expiresAt === null || expiresAt > own)) {
    throw forbidden(`Your key expires at ${new Date(own).toISOString()} and cannot issue a root key that outlives it`)
  }
}
