// Request and response schemas of apis.createApi / getApi / deleteApi.
import { t } from 'elysia'
import { body, EmptyEnvelope, envelope } from '../../http/schemas'

export const ApiId = t.String({ minLength: 8, maxLength: 255, pattern: '^[a-zA-Z0-9_]+$', description: 'The API id (`api_…`).' })

export const CreateApiBody = body({
  name: t.String({ minLength: 3, maxLength: 256, description: 'A name for the API, for your own reference.' }),
})
export const CreateApiResponse = envelope(t.Object({ apiId: t.String() }))

export const GetApiBody = body({ apiId: ApiId })
export const GetApiResponse = envelope(t.Object({ id: t.String(), name: t.String() }))

export const DeleteApiBody = body({ apiId: ApiId })
export const DeleteApiResponse = EmptyEnvelope
