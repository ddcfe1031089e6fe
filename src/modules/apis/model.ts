// Request and response schemas of apis.createApi / getApi / listApis / updateApi / deleteApi.
import { t } from 'elysia'
import { body, EmptyEnvelope, envelope, Int, paginated } from '../../http/schemas'

export const ApiId = t.String({ minLength: 8, maxLength: 255, pattern: '^[a-zA-Z0-9_]+$', description: 'The API id (`api_…`).' })

const ApiName = t.String({ minLength: 3, maxLength: 256, description: 'A name for the API, for your own reference.' })

/** An API as listApis and updateApi show it. */
export const ApiItem = t.Object({
  id: t.String(),
  name: t.String(),
  deleteProtection: t.Boolean({ description: 'Whether apis.deleteApi refuses to delete it (412).' }),
  createdAt: Int({ description: 'Unix ms.' }),
})

export const CreateApiBody = body({ name: ApiName })
export const CreateApiResponse = envelope(t.Object({ apiId: t.String() }))

export const GetApiBody = body({ apiId: ApiId })
export const GetApiResponse = envelope(t.Object({ id: t.String(), name: t.String() }))

export const ListApisBody = body({
  limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 100, description: 'Page size.' })),
  cursor: t.Optional(t.String({ maxLength: 1024, description: 'The `pagination.cursor` of the previous page.' })),
})
export const ListApisResponse = paginated(ApiItem)

export const UpdateApiBody = body({
  apiId: ApiId,
  name: t.Optional(ApiName),
  deleteProtection: t.Optional(t.Boolean({ description: 'Turn delete protection on or off.' })),
})
export const UpdateApiResponse = envelope(ApiItem)

export const DeleteApiBody = body({ apiId: ApiId })
export const DeleteApiResponse = EmptyEnvelope
