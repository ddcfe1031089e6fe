// Request and response schemas of rootKeys.*: the root keys of the caller's
// workspace, managed over HTTP as the CLI manages them (src/cli/root-keys.ts).
import { t } from 'elysia'
import { body, EmptyEnvelope, envelope, Int, paginated } from '../../http/schemas'

/** Seven days: the longest a rotated-away key may keep working. */
export const MAX_GRACE_PERIOD_MS = 604_800_000
/** Ten years: the longest lifetime a new key may be given. */
const MAX_EXPIRES_IN_MS = 315_360_000_000

const RootKeyId = t.String({ minLength: 3, maxLength: 255, pattern: '^[a-zA-Z0-9_]+$', description: 'The root key id (`rk_…`).' })
const Timestamp = Int({ minimum: 0, description: 'Unix ms.' })
/** A time that is left out when it has not happened (never null, like every optional field of the API). */
const OptionalTime = (description: string) => t.Optional(Int({ minimum: 0, description }))

export const RootKeyItem = t.Object({
  id: t.String({ description: 'The root key id (`rk_…`).' }),
  name: t.String(),
  start: t.String({ description: 'The first characters of the key, to recognise it by; never the secret.' }),
  permissions: t.Array(t.String(), { description: 'What the key may do: `*` or `resourceType.resourceId.action` grants.' }),
  createdAt: Timestamp,
  expiresAt: OptionalTime('When the key stops working by itself (unix ms); absent when it does not expire.'),
  lastUsedAt: OptionalTime('When the key last authenticated a call (unix ms, written about once a second); absent when never used.'),
  revokedAt: OptionalTime('When the key was revoked (unix ms); absent unless revoked.'),
  status: t.UnionEnum(['active', 'expired', 'revoked'], { default: undefined, description: 'Whether the key works now.' }),
})

export const WhoamiBody = body({})
export const WhoamiResponse = envelope(
  t.Composite([RootKeyItem, t.Object({ workspace: t.Object({ id: t.String(), name: t.String() }, { description: 'The workspace the key acts in.' }) })]),
)

export const CreateRootKeyBody = body({
  name: t.String({ minLength: 1, maxLength: 255, pattern: '\\S', description: 'What the key is for; not blank.' }),
  permissions: t.Array(t.String({ minLength: 1, maxLength: 600 }), {
    minItems: 1,
    maxItems: 1000,
    description: 'The grants: `*`, or `resourceType.resourceId.action` (e.g. `api.*.read_api`). Each must be held by the calling key itself.',
  }),
  expiresIn: t.Optional(Int({ minimum: 1, maximum: MAX_EXPIRES_IN_MS, description: 'Make the key expire after this many milliseconds.' })),
})
export const CreateRootKeyResponse = envelope(
  t.Object({
    rootKeyId: t.String(),
    key: t.String({ description: 'The new root key. It is shown this once and cannot be recovered.' }),
    workspaceId: t.String(),
  }),
)

export const ListRootKeysBody = body({
  limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 100, description: 'Page size.' })),
  cursor: t.Optional(t.String({ maxLength: 1024, description: 'The `pagination.cursor` of the previous page.' })),
})
export const ListRootKeysResponse = paginated(RootKeyItem)

export const RevokeRootKeyBody = body({ rootKeyId: RootKeyId })
export const RevokeRootKeyResponse = EmptyEnvelope

export const RotateRootKeyBody = body({
  rootKeyId: RootKeyId,
  gracePeriodMs: t.Optional(
    Int({
      minimum: 0,
      maximum: MAX_GRACE_PERIOD_MS,
      default: 0,
      description: 'How long the old key keeps working, in ms (at most 7 days); 0 stops it at once.',
    }),
  ),
})
export const RotateRootKeyResponse = envelope(
  t.Object({
    rootKeyId: t.String({ description: 'The id of the new key.' }),
    key: t.String({ description: 'The new root key. It is shown this once and cannot be recovered.' }),
    workspaceId: t.String(),
    replacedRootKeyId: t.String(),
    replacedKeyStopsAt: Timestamp,
  }),
)
