// Request and response schemas of keys.* and apis.listKeys, declared once.
import { t } from 'elysia'
import { body, envelope, Int, MetaObject as Meta, paginated } from '../../http/schemas'
import { IdentityResponse } from '../identities/model'
import { RatelimitResponse, Ratelimits } from '../ratelimit/model'
import { PermissionSlug } from '../permissions/model'

const EXPIRES_MAX = 4102444800000

export const KeyId = t.String({ minLength: 3, maxLength: 255, pattern: '^[a-zA-Z0-9_]+$', description: 'The key id (`key_…`).' })
const ApiIdField = t.String({ minLength: 3, maxLength: 255, pattern: '^[a-zA-Z0-9_]+$', description: 'The API the key belongs to.' })
const ExternalId = t.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[a-zA-Z0-9_.-]+$',
  description: 'Your own id for the owner of the key; links (or creates) an identity.',
})
const Permissions = t.Array(PermissionSlug, { maxItems: 1000, description: 'Permission slugs; unknown ones are created.' })
const Roles = t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: 100, description: 'Role names or ids; each must exist.' })
const Expires = Int({ minimum: 0, maximum: EXPIRES_MAX, description: 'Unix time in ms after which the key stops verifying.' })
const Interval = t.Union([t.Literal('daily'), t.Literal('monthly')])

const Refill = t.Object(
  {
    interval: Interval,
    amount: Int({ minimum: 1, description: 'The balance the refill sets.' }),
    refillDay: t.Optional(Int({ minimum: 1, maximum: 31, description: 'Day of the month for monthly refills.' })),
  },
  { additionalProperties: false },
)

export const KeyCredits = t.Object(
  {
    remaining: t.Union([Int({ minimum: 0 }), t.Null()], { description: 'Credits left; null means unlimited.' }),
    refill: t.Optional(Refill),
  },
  { additionalProperties: false },
)

export const KeyResponse = t.Object({
  keyId: t.String(),
  start: t.String(),
  enabled: t.Boolean(),
  name: t.Optional(t.String()),
  meta: t.Optional(Meta),
  createdAt: Int(),
  updatedAt: t.Optional(Int()),
  lastUsedAt: t.Optional(Int()),
  expires: t.Optional(Int()),
  permissions: t.Optional(t.Array(t.String())),
  roles: t.Optional(t.Array(t.String())),
  credits: t.Optional(KeyCredits),
  identity: t.Optional(IdentityResponse),
  plaintext: t.Optional(t.String()),
  ratelimits: t.Optional(t.Array(RatelimitResponse)),
})

export const CreateKeyBody = body({
  apiId: ApiIdField,
  prefix: t.Optional(t.String({ minLength: 1, maxLength: 16, pattern: '^[a-zA-Z0-9_]+$', description: 'Prepended to the key as `prefix_`.' })),
  name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
  byteLength: t.Optional(Int({ minimum: 16, maximum: 255, default: 16, description: 'Random bytes in the key.' })),
  externalId: t.Optional(ExternalId),
  meta: t.Optional(Meta),
  roles: t.Optional(Roles),
  permissions: t.Optional(Permissions),
  expires: t.Optional(Expires),
  credits: t.Optional(KeyCredits),
  ratelimits: t.Optional(Ratelimits),
  enabled: t.Optional(t.Boolean({ default: true })),
  recoverable: t.Optional(t.Boolean({ default: false, description: 'Keep an encrypted copy that getKey/listKeys can decrypt.' })),
})
export const CreateKeyResponse = envelope(t.Object({ keyId: t.String(), key: t.String({ description: 'The key. Shown only this once.' }) }))

export const GetKeyBody = body({ keyId: KeyId, decrypt: t.Optional(t.Boolean({ default: false })) })
export const KeyEnvelope = envelope(KeyResponse)

export const WhoamiBody = body({ key: t.String({ minLength: 1, maxLength: 512, description: 'The key itself.' }) })

export const UpdateKeyBody = body({
  keyId: KeyId,
  name: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 255 }), t.Null()])),
  externalId: t.Optional(t.Union([ExternalId, t.Null()])),
  meta: t.Optional(t.Union([Meta, t.Null()])),
  expires: t.Optional(t.Union([Expires, t.Null()])),
  credits: t.Optional(
    t.Union([
      t.Object(
        {
          remaining: t.Optional(t.Union([Int({ minimum: 0 }), t.Null()])),
          refill: t.Optional(t.Union([Refill, t.Null()])),
        },
        { additionalProperties: false },
      ),
      t.Null(),
    ]),
  ),
  ratelimits: t.Optional(Ratelimits),
  enabled: t.Optional(t.Boolean()),
  roles: t.Optional(Roles),
  permissions: t.Optional(Permissions),
})

export const DeleteKeyBody = body({ keyId: KeyId, permanent: t.Optional(t.Boolean({ default: false })) })

export const UpdateCreditsBody = body({
  keyId: t.String({ minLength: 3, maxLength: 255 }),
  operation: t.Union([t.Literal('set'), t.Literal('increment'), t.Literal('decrement')]),
  value: t.Optional(t.Union([Int({ minimum: 0 }), t.Null()])),
})
export const UpdateCreditsResponse = envelope(KeyCredits)

export const RerollKeyBody = body({
  keyId: KeyId,
  expiration: Int({ minimum: 0, maximum: EXPIRES_MAX, description: 'Milliseconds until the old key stops verifying; 0 = now.' }),
})

export const ListKeysBody = body({
  apiId: t.String({ minLength: 1, maxLength: 255 }),
  limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 100 })),
  cursor: t.Optional(t.String({ maxLength: 1024 })),
  externalId: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
  decrypt: t.Optional(t.Boolean({ default: false })),
  revalidateKeysCache: t.Optional(t.Boolean({ default: false, description: 'Accepted for compatibility; latch caches are always current.' })),
})
export const ListKeysResponse = paginated(KeyResponse)

export const VerifyKeyBody = body({
  key: t.String({ minLength: 1, maxLength: 512, description: 'The key to verify.' }),
  tags: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 512 }), { maxItems: 20, description: 'Recorded with the verification event.' })),
  permissions: t.Optional(t.String({ minLength: 1, maxLength: 1000, description: 'A query such as `a AND (b OR c)`.' })),
  credits: t.Optional(t.Object({ cost: Int({ minimum: 0, maximum: 1_000_000_000_000 }) }, { additionalProperties: false })),
  ratelimits: t.Optional(
    t.Array(
      t.Object(
        {
          name: t.String({ minLength: 3, maxLength: 255 }),
          cost: t.Optional(Int({ minimum: 0, default: 1 })),
          limit: t.Optional(Int({ minimum: 0, description: 'With duration: an inline limit for this call.' })),
          duration: t.Optional(Int({ minimum: 1000, maximum: 2592000000, description: 'With limit: the inline window in ms.' })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 50 },
    ),
  ),
  migrationId: t.Optional(t.String({ maxLength: 256 })),
})

/** Every outcome of a verification, declared once. */
export const VERIFY_CODES = ['VALID', 'NOT_FOUND', 'FORBIDDEN', 'INSUFFICIENT_PERMISSIONS', 'USAGE_EXCEEDED', 'RATE_LIMITED', 'DISABLED', 'EXPIRED'] as const
export const VerifyCode = t.Union(VERIFY_CODES.map((c) => t.Literal(c)))

export const VerifyRatelimitResult = t.Object({
  exceeded: t.Boolean(),
  id: t.String(),
  name: t.String(),
  limit: Int(),
  duration: Int(),
  reset: Int({ description: 'Unix ms when the current window ends.' }),
  remaining: Int(),
  autoApply: t.Boolean(),
})

export const VerifyKeyResponse = envelope(
  t.Object({
    valid: t.Boolean(),
    code: VerifyCode,
    keyId: t.Optional(t.String()),
    name: t.Optional(t.String()),
    meta: t.Optional(Meta),
    expires: t.Optional(Int()),
    credits: t.Optional(Int({ description: 'Credits left after this verification; absent when unlimited.' })),
    enabled: t.Optional(t.Boolean()),
    permissions: t.Optional(t.Array(t.String())),
    roles: t.Optional(t.Array(t.String())),
    identity: t.Optional(IdentityResponse),
    ratelimits: t.Optional(t.Array(VerifyRatelimitResult)),
  }),
)

export const MigrateKeyData = t.Object(
  {
    hash: t.String({ minLength: 3, maxLength: 512, description: 'The hash of the key as stored by your previous system.' }),
    name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    externalId: t.Optional(ExternalId),
    meta: t.Optional(Meta),
    roles: t.Optional(Roles),
    permissions: t.Optional(Permissions),
    expires: t.Optional(Expires),
    enabled: t.Optional(t.Boolean({ default: true })),
    credits: t.Optional(KeyCredits),
    ratelimits: t.Optional(Ratelimits),
  },
  { additionalProperties: false },
)

export const MigrateKeysBody = body({
  migrationId: t.String({ minLength: 3, maxLength: 255 }),
  apiId: ApiIdField,
  keys: t.Array(MigrateKeyData, { minItems: 1, maxItems: 1000 }),
})
export const MigrateKeysResponse = envelope(
  t.Object({
    migrated: t.Array(t.Object({ hash: t.String(), keyId: t.String() })),
    failed: t.Array(t.String(), { description: 'Hashes that were not migrated (already present).' }),
  }),
)
