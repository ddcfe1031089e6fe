// Real traffic for the analytics route tests: keys verified and limits checked
// through HTTP in workspace 'ws' (two APIs, keys with and without identities,
// credits, a key ratelimit, tags, unknown keys) and in workspace 'other' (same
// tags and namespace names, other numbers: any of it in 'ws' answers is a
// leak), written by a flush. The expected numbers are listed here once.
import type { Harness } from '../../support/harness'

export interface Traffic {
  root: string
  workspaceId: string
  /** API 'payments' (keyA1, keyA2) and API 'search' (keyB1). */
  apiA: string
  apiB: string
  keyA1: string
  keyA2: string
  keyB1: string
  /** The id of keyA1's autoApply limit `requests`: the namespace of its decisions in ratelimits_v1. */
  keyLimitId: string
  /** Namespace ids of 'api-calls' and 'logins'. */
  nsCalls: string
  nsLogins: string
  /** The requestId of keyA1's first verification. */
  firstRequestId: string
}

export const DAY = 86_400_000

/**
 * 'ws' today: keyA1 (cust_1, 2 credits, 3 per minute): VALID ×2 with tag
 * route=/checkout, then USAGE_EXCEEDED, then RATE_LIMITED; keyA2 (no
 * identity): VALID ×5 with route=/home; keyB1 (cust_2): VALID ×3 (one with
 * route=/checkout); NOT_FOUND ×2. Tomorrow: keyB1 VALID ×2. So 16 events:
 * VALID 12, NOT_FOUND 2, USAGE_EXCEEDED 1, RATE_LIMITED 1.
 * Ratelimits today: api-calls/user_a 2 passed + 1 blocked, logins/user_b 1
 * passed, multiLimit api-calls/user_c + logins/user_c both passed; keyA1's
 * limit: 3 passed + 1 blocked. 'other': 7 VALID with route=/checkout and 4
 * api-calls/user_a.
 */
export async function makeTraffic(h: Harness): Promise<Traffic> {
  const root = await h.rootKey('ws')
  const other = await h.rootKey('other')
  const apiA = (await h.ok('apis.createApi', { name: 'payments' }, root)).apiId
  const apiB = (await h.ok('apis.createApi', { name: 'search' }, root)).apiId
  const requests = [{ name: 'requests', limit: 3, duration: 60_000, autoApply: true }]
  const keyA1 = await h.ok('keys.createKey', { apiId: apiA, externalId: 'cust_1', credits: { remaining: 2 }, ratelimits: requests }, root)
  const keyLimitId = (await h.ok('keys.getKey', { keyId: keyA1.keyId }, root)).ratelimits[0].id as string
  const keyA2 = await h.ok('keys.createKey', { apiId: apiA }, root)
  const keyB1 = await h.ok('keys.createKey', { apiId: apiB, externalId: 'cust_2' }, root)

  const verify = async (key: string, tags?: string[]) => {
    const res = await h.call('/v2/keys.verifyKey', { key, ...(tags ? { tags } : {}) }, root)
    return res.body.meta.requestId as string
  }
  const firstRequestId = await verify(keyA1.key, ['route=/checkout'])
  await verify(keyA1.key, ['route=/checkout'])
  await verify(keyA1.key)
  await verify(keyA1.key)
  for (let i = 0; i < 5; i++) await verify(keyA2.key, ['route=/home'])
  await verify(keyB1.key, ['route=/checkout'])
  await verify(keyB1.key)
  await verify(keyB1.key)
  await verify('unknown_key_123456')
  await verify('unknown_key_654321')

  const limit = (namespace: string, identifier: string, key = root) => h.call('/v2/ratelimit.limit', { namespace, identifier, limit: 2, duration: 60_000 }, key)
  for (let i = 0; i < 3; i++) await limit('api-calls', 'user_a')
  await limit('logins', 'user_b')
  await h.ok(
    'ratelimit.multiLimit',
    [
      { namespace: 'api-calls', identifier: 'user_c', limit: 5, duration: 60_000 },
      { namespace: 'logins', identifier: 'user_c', limit: 5, duration: 60_000 },
    ],
    root,
  )

  const otherApi = (await h.ok('apis.createApi', { name: 'payments' }, other)).apiId
  const otherKey = (await h.ok('keys.createKey', { apiId: otherApi, externalId: 'cust_1' }, other)).key
  for (let i = 0; i < 7; i++) await h.call('/v2/keys.verifyKey', { key: otherKey, tags: ['route=/checkout'] }, other)
  for (let i = 0; i < 4; i++) await limit('api-calls', 'user_a', other)
  await h.services.flush()

  h.clock.advance(DAY)
  await verify(keyB1.key)
  await verify(keyB1.key)
  await h.services.flush()

  const workspaceId = await h.workspaceId('ws')
  const namespace = async (name: string) => (await h.services.ratelimit.findNamespace(workspaceId, name))!.id
  return {
    root,
    workspaceId,
    apiA,
    apiB,
    keyA1: keyA1.keyId,
    keyA2: keyA2.keyId,
    keyB1: keyB1.keyId,
    keyLimitId,
    nsCalls: await namespace('api-calls'),
    nsLogins: await namespace('logins'),
    firstRequestId,
  }
}
