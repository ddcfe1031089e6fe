// APIs: named containers for keys. Every lookup is scoped to a workspace;
// a deleted API (or one of another workspace) is indistinguishable from a
// missing one.
import type { Clock } from '../../clock'
import { toPage, type Page, type PageInput } from '../../db/pagination'
import type { Stores } from '../../db/stores'
import type { Api } from '../../db/stores/apis'
import { badRequest, notFound, protectedResource } from '../../errors'
import { newId } from '../../ids'
import type { AuditLog } from '../audit/service'

export type { Api }

/** An API as an audit event names it. */
export const apiResource = (api: Api) => ({ type: 'api', id: api.id, name: api.name })

export const apiNotFound = () => notFound('api', 'The requested API does not exist or has been deleted.')

/** The fields apis.updateApi may change; those present are replaced. */
export interface ApiUpdate {
  name?: string
  deleteProtection?: boolean
}

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

  /** A page of the workspace's live APIs in id order; with `only`, of those APIs alone (a root key's per-API grants). */
  async list(workspaceId: string, input: PageInput, only?: readonly string[]): Promise<Page<Api>> {
    const apis = await this.stores.apis.pageLive(workspaceId, { cursor: input.cursor ?? '', limit: input.limit + 1, ...(only ? { ids: only } : {}) })
    return toPage(apis, input.limit, (a) => a)
  }

  /** Turns delete protection on or off; a missing API is a 404. */
  async setDeleteProtection(workspaceId: string, apiId: string, enabled: boolean): Promise<void> {
    await this.update(workspaceId, apiId, { deleteProtection: enabled })
  }

  /** Renames the API and/or turns its delete protection on or off; returns it afterwards. A missing API is a 404. */
  update(workspaceId: string, apiId: string, update: ApiUpdate): Promise<Api> {
    const { name, deleteProtection } = update
    if (name === undefined && deleteProtection === undefined) {
      const message = 'Nothing to update: give a name, deleteProtection or both.'
      throw badRequest(message, [{ location: 'body', message }])
    }
    return this.stores.transaction(async () => {
      const api = await this.get(workspaceId, apiId)
      if (name !== undefined) await this.stores.apis.rename(workspaceId, api.id, name)
      if (deleteProtection !== undefined) await this.stores.apis.setDeleteProtection(workspaceId, api.id, deleteProtection)
      const updated = { ...api, name: name ?? api.name, deleteProtection: deleteProtection ?? api.deleteProtection }
      const protection = deleteProtection === undefined ? '' : ` and ${deleteProtection ? 'enabled' : 'disabled'} its delete protection`
      const description =
        name === undefined
          ? `${deleteProtection ? 'Enabled' : 'Disabled'} delete protection of API ${api.name}`
          : `Renamed API ${api.name} to ${name}${protection}`
      await this.audit.record({ workspaceId, event: 'api.update', resources: [apiResource(updated)], description })
      return updated
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
