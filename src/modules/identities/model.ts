// Request and response schemas of identities.*, declared once. The identity
// shape is shared with keys (a key shows its identity).
import { t } from 'elysia'
import { body, envelope, Int, Meta as RequestMeta, MetaObject as Meta, paginated } from '../../http/schemas'
import { RatelimitResponse, Ratelimits } from '../ratelimit/model'

export const IdentityResponse = t.Object({
  id: t.String(),
  externalId: t.String(),
  meta: t.Optional(Meta),
  ratelimits: t.Optional(t.Array(RatelimitResponse)),
})

const IdentityRef = t.String({ minLength: 1, description: 'The identity id (`id_…`) or your externalId for it.' })

export const CreateIdentityBody = body({
  externalId: t.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^[a-zA-Z0-9_.-]+$',
    description: 'Your own id for this user or organisation; unique among the workspace’s identities.',
  }),
  meta: t.Optional(Meta),
  ratelimits: t.Optional(Ratelimits),
})
export const CreateIdentityResponse = envelope(t.Object({ identityId: t.String() }))

export const GetIdentityBody = body({ identity: IdentityRef })
export const IdentityEnvelope = envelope(IdentityResponse)

export const ListIdentitiesBody = body({
  limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 100, description: 'Page size.' })),
  cursor: t.Optional(t.String({ maxLength: 1024, description: 'The `pagination.cursor` of the previous page.' })),
  search: t.Optional(t.String({ maxLength: 256, description: 'Only identities whose id or externalId contains this text (case-insensitive).' })),
})
export const ListIdentitiesResponse = paginated(IdentityResponse)

export const UpdateIdentityBody = body({
  identity: IdentityRef,
  meta: t.Optional(Meta),
  ratelimits: t.Optional(Ratelimits),
})

export const DeleteIdentityBody = body({ identity: IdentityRef })
/** deleteIdentity answers with `meta` only, no `data`. */
export const DeleteIdentityResponse = t.Object({ meta: RequestMeta })

export type CreateIdentityInput = typeof CreateIdentityBody.static
/** The fields of updateIdentity besides `identity`: those present are replaced. */
export type IdentityUpdate = Omit<typeof UpdateIdentityBody.static, 'identity'>
