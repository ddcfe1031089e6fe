// How an API is shown by apis.listApis and apis.updateApi.
import type { Api } from './service'

export const apiView = (api: Api) => ({ id: api.id, name: api.name, deleteProtection: api.deleteProtection, createdAt: api.createdAt })
