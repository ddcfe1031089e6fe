// Identities: an end user (or org) that several keys belong to, addressed by
// its id (`id_…`) or by the caller's own externalId (unique per workspace among
// live identities). Keys link to identities; ratelimits can hang off either.
// Deleting is soft: the externalId becomes free again and linked keys lose the
// link. Changes call `changed`, so linked keys verify with the new state at once.
import type { Clock } from '../../clock'
import { toPage, type ListInput, type Page } from '../../db/pagination'
import type { Stores } from '../../db/stores'
import type { IdentityRecord } from '../../db/stores/identities'
import { conflict, notFound } from '../../errors'
import { newId } from '../../ids'
import { serializeMeta } from '../../meta'
import type { AuditLog } from '../audit/service'
import { assertUniqueNames, type RatelimitDefinition, type RatelimitDefinitionService, type RatelimitInput } from '../ratelimit/definitions'
import type { CreateIdentityInput, IdentityUpdate } from './model'

export type { CreateIdentityInput, IdentityUpdate }

export interface Identity {
  id: string
  workspaceId: string
  externalId: string
  meta: Record<string, unknown> | null
  createdAt: number
  updatedAt: number | null
}

/** An identity with its ratelimits, as the identities.* routes return it. */
export interface IdentityDetails extends Identity {
  ratelimits: RatelimitDefinition[]
}

/** An identity as an audit event names it. */
export const identityResource = (identity: Pick<Identity, 'id' | 'externalId'>) => ({ type: 'identity', id: identity.id, name: identity.externalId })

export const identityNotFound = () => notFound('identity', 'This identity does not exist.')

/** The meta to store (undefined when absent), after checking it and the ratelimit names: 400 otherwise. */
function validateInput(input: { meta?: Record<string, unknown>; ratelimits?: RatelimitInput[] }): string | undefined {
  if (input.ratelimits) assertUniqueNames(input.ratelimits, 'ratelimits')
  return input.meta === undefined ? undefined : serializeMeta(input.meta)
}

const toIdentity = (r: IdentityRecord): Identity => ({
  id: r.id,
  workspaceId: r.workspaceId,
  externalId: r.externalId,
  meta: r.meta === null ? null : JSON.parse(r.meta),
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
})

export class IdentityService {
  private readonly changeListeners: ((workspaceId: string) => void)[] = []

  constructor(
    private readonly stores: Pick<Stores, 'transaction' | 'identities' | 'keys'>,
    private readonly clock: Clock,
    /** Identity ratelimits live beside key ratelimits, owned by `{ identityId }`. */
    private readonly ratelimitDefinitions: RatelimitDefinitionService,
    private readonly audit: AuditLog,
  ) {}

  /** Registers a listener told about every change that can alter what a key verifies as (the key cache). */
  onChange(listener: (workspaceId: string) => void): void {
    this.changeListeners.push(listener)
  }

  /** Call after every mutation of this service's data in `workspaceId`. */
  private changed(workspaceId: string): void {
    for (const listener of this.changeListeners) listener(workspaceId)
  }

  /** 409 when a live identity already has the externalId; 400 for oversized meta or repeated ratelimit names. */
  async create(workspaceId: string, input: CreateIdentityInput): Promise<IdentityDetails> {
    const metaJson = validateInput(input) ?? null
    return this.stores.transaction(async () => {
      if (await this.findByExternalId(workspaceId, input.externalId)) {
        throw conflict('identity', `Identity with externalId '${input.externalId}' already exists in this workspace.`)
      }
      const identity = await this.insert(workspaceId, input.externalId, input.meta ?? null, metaJson)
      const ratelimits = input.ratelimits?.length ? await this.ratelimitDefinitions.replace(workspaceId, { identityId: identity.id }, input.ratelimits) : []
      await this.recordChange(identity, 'identity.create', `Created identity ${identity.externalId}`)
      return { ...identity, ratelimits }
    })
  }

  /** The live identity with this id or externalId in the workspace (id wins), or null. */
  async find(workspaceId: string, idOrExternalId: string): Promise<Identity | null> {
    const record =
      (await this.stores.identities.findLive(workspaceId, idOrExternalId)) ?? (await this.stores.identities.findLiveByExternalId(workspaceId, idOrExternalId))
    return record ? toIdentity(record) : null
  }

  /** The live identity with exactly this id in the workspace, or null (a key's identity, say). */
  async findById(workspaceId: string, identityId: string): Promise<Identity | null> {
    const record = await this.stores.identities.findLive(workspaceId, identityId)
    return record ? toIdentity(record) : null
  }

  async findByExternalId(workspaceId: string, externalId: string): Promise<Identity | null> {
    const record = await this.stores.identities.findLiveByExternalId(workspaceId, externalId)
    return record ? toIdentity(record) : null
  }

  /** Like find, but a missing identity is a 404. */
  async get(workspaceId: string, idOrExternalId: string): Promise<Identity> {
    const identity = await this.find(workspaceId, idOrExternalId)
    if (!identity) throw identityNotFound()
    return identity
  }

  /** The identity (by id or externalId) with its ratelimits; 404 when missing. */
  async getDetails(workspaceId: string, idOrExternalId: string): Promise<IdentityDetails> {
    return this.withRatelimits(await this.get(workspaceId, idOrExternalId))
  }

  /** A page of the workspace's identities; with `only`, of those identities alone (a root key's per-identity grants). */
  async list(workspaceId: string, input: ListInput, only?: readonly string[]): Promise<Page<IdentityDetails>> {
    const records = await this.stores.identities.listLive(workspaceId, {
      cursor: input.cursor ?? '',
      limit: input.limit + 1,
      search: input.search ?? '',
      ...(only ? { ids: only } : {}),
    })
    const page = toPage(records, input.limit, toIdentity)
    return { ...page, items: await Promise.all(page.items.map((i) => this.withRatelimits(i))) }
  }

  /** Applies the fields present in `update`; returns the identity afterwards. */
  async update(workspaceId: string, idOrExternalId: string, update: IdentityUpdate): Promise<IdentityDetails> {
    const metaJson = validateInput(update)
    const identity = await this.get(workspaceId, idOrExternalId)
    await this.stores.transaction(async () => {
      await this.stores.identities.update(identity.id, { meta: metaJson, updatedAt: this.clock.now() })
      if (update.ratelimits !== undefined) await this.ratelimitDefinitions.replace(workspaceId, { identityId: identity.id }, update.ratelimits)
      const changed = [update.meta !== undefined && 'meta', update.ratelimits !== undefined && 'ratelimits'].filter(Boolean)
      await this.recordChange(identity, 'identity.update', `Updated identity ${identity.externalId}${changed.length ? ` (${changed.join(', ')})` : ''}`)
    })
    this.changed(workspaceId)
    return this.getDetails(workspaceId, identity.id)
  }

  /** Soft-deletes the identity: its externalId is free again, its keys lose the link, its ratelimits go. */
  async delete(workspaceId: string, idOrExternalId: string): Promise<void> {
    const identity = await this.get(workspaceId, idOrExternalId)
    await this.stores.transaction(async () => {
      await this.stores.identities.softDelete(identity.id, this.clock.now())
      await this.stores.keys.unlinkIdentity(identity.id)
      await this.ratelimitDefinitions.removeAll({ identityId: identity.id })
      await this.recordChange(identity, 'identity.delete', `Deleted identity ${identity.externalId}`)
    })
    this.changed(workspaceId)
  }

  /**
   * The live identity with this externalId, created (with no meta) when
   * absent. Joins the caller's transaction, so that the lookup and the insert
   * are atomic.
   */
  upsertByExternalId(workspaceId: string, externalId: string): Promise<Identity> {
    return this.stores.transaction(
      async () => (await this.findByExternalId(workspaceId, externalId)) ?? (await this.insert(workspaceId, externalId, null, null)),
    )
  }

  private recordChange(identity: Identity, event: 'identity.create' | 'identity.update' | 'identity.delete', description: string): Promise<void> {
    const resources = [identityResource(identity)]
    return this.audit.record({ workspaceId: identity.workspaceId, event, resources, description })
  }

  private async withRatelimits(identity: Identity): Promise<IdentityDetails> {
    return { ...identity, ratelimits: await this.ratelimitDefinitions.list({ identityId: identity.id }) }
  }

  /** Inserts a new identity; the caller has checked that the externalId is free. */
  private async insert(workspaceId: string, externalId: string, meta: Record<string, unknown> | null, metaJson: string | null): Promise<Identity> {
    const identity: Identity = { id: newId('id'), workspaceId, externalId, meta, createdAt: this.clock.now(), updatedAt: null }
    await this.stores.identities.insert({ id: identity.id, workspaceId, externalId, meta: metaJson, createdAt: identity.createdAt })
    return identity
  }
}
