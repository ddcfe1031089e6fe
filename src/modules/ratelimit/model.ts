// Request and response schemas of ratelimit.limit / multiLimit, the namespace
// and override routes, and of the named ratelimits that keys and identities carry.
import { t } from 'elysia'
import { body, EmptyEnvelope, envelope, Int, paginated } from '../../http/schemas'

/** 30 days: the longest window a limit request may ask for. */
const MAX_DURATION = 2_592_000_000

/** A named ratelimit of a key or an identity, as requests give it. */
export const RatelimitRequest = t.Object(
  {
    name: t.String({ minLength: 3, maxLength: 128, description: 'Unique per key or identity.' }),
    limit: Int({ minimum: 1, description: 'Requests allowed per window.' }),
    duration: Int({ minimum: 1000, maximum: MAX_DURATION, description: 'Window length in ms.' }),
    autoApply: t.Optional(t.Boolean({ default: false, description: 'Check this limit on every verification.' })),
  },
  { additionalProperties: false },
)
export const Ratelimits = t.Array(RatelimitRequest, { maxItems: 50 })

export const RatelimitResponse = t.Object({
  id: t.String(),
  name: t.String(),
  limit: Int(),
  duration: Int(),
  autoApply: t.Boolean(),
})

const Namespace = t.String({ minLength: 1, maxLength: 512, description: 'The namespace, by name or by id (`rlns_…`).' })
const Identifier = t.String({ minLength: 1, maxLength: 512, description: 'Who is being limited: a user id, an IP address, …' })
const OverrideIdentifier = t.String({
  minLength: 1,
  maxLength: 512,
  description: 'An exact identifier, or a pattern in which `*` stands for any run of characters.',
})

const limitFields = {
  namespace: Namespace,
  identifier: Identifier,
  limit: Int({ minimum: 1, description: 'How much may be used per window (unless an override says otherwise).' }),
  duration: Int({ minimum: 1000, maximum: MAX_DURATION, description: 'Window length in milliseconds.' }),
  cost: t.Optional(Int({ minimum: 0, default: 1, description: 'How much this request uses; 0 only reads what is left.' })),
}

export const LimitBody = body(limitFields)
export const LimitResponse = envelope(
  t.Object({
    limit: Int({ description: 'The limit that was applied (an override’s, if one matched).' }),
    remaining: Int({ description: 'What is left in the current window after this request.' }),
    reset: Int({ description: 'When the current window ends, unix ms.' }),
    success: t.Boolean({ description: 'Whether the request is within the limit.' }),
    overrideId: t.Optional(t.String({ description: 'The override that applied, if any.' })),
  }),
)

export const MultiLimitBody = t.Array(body(limitFields), { minItems: 1, maxItems: 100, description: 'Between 1 and 100 limit checks.' })
export const MultiLimitResponse = envelope(
  t.Object({
    passed: t.Boolean({ description: 'True only when every check passed; otherwise nothing was counted.' }),
    limits: t.Array(
      t.Object({
        namespace: t.String(),
        identifier: t.String(),
        limit: Int(),
        remaining: Int(),
        reset: Int(),
        passed: t.Boolean(),
        overrideId: t.Optional(t.String()),
      }),
    ),
  }),
)

const Override = t.Object({
  overrideId: t.String(),
  duration: Int(),
  identifier: t.String(),
  limit: Int(),
})

export const SetOverrideBody = body({
  namespace: Namespace,
  identifier: OverrideIdentifier,
  limit: Int({ minimum: 0, description: 'The limit for matching identifiers; 0 refuses every request.' }),
  duration: Int({ minimum: 1000, description: 'Window length in milliseconds.' }),
})
export const SetOverrideResponse = envelope(t.Object({ overrideId: t.String() }))

export const GetOverrideBody = body({ namespace: Namespace, identifier: Identifier })
export const GetOverrideResponse = envelope(Override)

export const ListOverridesBody = body({
  namespace: Namespace,
  cursor: t.Optional(t.String({ maxLength: 1024, description: 'From `pagination.cursor` of the previous page.' })),
  limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 10, description: 'Page size.' })),
})
export const ListOverridesResponse = paginated(Override)

export const DeleteOverrideBody = body({ namespace: Namespace, identifier: OverrideIdentifier })
export const DeleteOverrideResponse = EmptyEnvelope

export const ListNamespacesBody = body({
  limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 100, description: 'Page size.' })),
  cursor: t.Optional(t.String({ maxLength: 1024, description: 'The `pagination.cursor` of the previous page.' })),
})
export const ListNamespacesResponse = paginated(
  t.Object({
    id: t.String({ description: 'The namespace id (`rlns_…`).' }),
    name: t.String(),
    createdAt: Int({ description: 'Unix ms.' }),
    overrideCount: Int({ description: 'How many overrides the namespace has.' }),
  }),
)

export const DeleteNamespaceBody = body({ namespace: Namespace })
export const DeleteNamespaceResponse = EmptyEnvelope
