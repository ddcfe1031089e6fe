// APIs: named containers for keys. Every lookup is scoped to a workspace;
// a deleted API (or one of another workspace) is indistinguishable from a
// missing one.
import type { Clock } from '../../clock'
import type { Stores } from '../../db/stores'
import type { Api } from '../../db/stores/apis'
import { notFound, protectedResource } from '../../errors'
import { newId } from '../../ids'
import type { AuditLog } from '../audit/service'

export type { Api }

/** An API as an audit event names it. */
export const apiResource = (api: Api) => ({ type: 'api', id: api.id, name: api.name })

export const apiNotFound = () => notFound('api', 'The requested API does not exist or has been deleted.')

type ApiDeletedListener = (api: Api) => void

export class ApiService {
  private readonly deletedListeners: ApiDeletedListener[] = []

  constructor(
    private readonly stores: Pick<Stores, 'apis' | 'transaction'>,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** Called after an API is deleted (the key cache listens, so its keys stop verifying at once). */
  onDeleted(listener: ApiDeletedListener): void {
    this.deletedListeners.push(listener)
  }

  async create(workspaceId: string, name: string): Promise<Api> {
    const api: Api = { id: newId('api'), workspaceId, name, deleteProtection: false, createdAt: this.clock.now() }
    await this.stores.transaction(async () => {
      await this.stores.apis.insert(api)
      await this.audit.record({ workspaceId, event: 'api.create', resources: [apiResource(api)], description: `Created API ${api.name}` })
    })
    return api
  }

  /** The live API with this id in this workspace, or null. */
  find(workspaceId: string, apiId: string): Promise<Api | null> {
    return this.stores.apis.findLive(workspaceId, apiId)
  }

  /** Whether the API exists and is not deleted, in any workspace (a key of a deleted API does not verify). */
  isLive(apiId: string): Promise<boolean> {
    return this.stores.apis.isLive(apiId)
  }

  /** Like find, but a missing API is a 404. */
  async get(workspaceId: string, apiId: string): Promise<Api> {
    const api = await this.find(workspaceId, apiId)
    if (!api) throw apiNotFound()
    return api
  }

  /** Turns delete protection on or off; a missing API is a 404. */
  setDeleteProtection(workspaceId: string, apiId: string, enabled: boolean): Promise<void> {
    return this.stores.transaction(async () => {
      const api = await this.get(workspaceId, apiId)
      await this.stores.apis.setDeleteProtection(workspaceId, api.id, enabled)
      const description = `${enabled ? 'Enabled' : 'Disabled'} delete protection of API ${api.name}`
      await this.audit.record({ workspaceId, event: 'api.update', resources: [apiResource(api)], description })
    })
  }

  /** Soft-deletes the API; its keys stop verifying immediately. */
  async delete(workspaceId: string, apiId: string): Promise<void> {
    const api = await this.stores.transaction(async () => {
      const api = await this.get(workspaceId, apiId)
      if (api.deleteProtection) {
        throw protectedResource('This API has delete protection enabled. Disable it before attempting to delete.')
      }
      await this.stores.apis.softDelete(api.id, this.clock.now())
      await this.audit.record({ workspaceId, event: 'api.delete', resources: [apiResource(api)], description: `Deleted API ${api.name}` })
      return api
    })
    for (const listener of this.deletedListeners) listener(api)
  }
}
