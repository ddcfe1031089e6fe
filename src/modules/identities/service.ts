// Identities: an end user (or org) that several keys belong to, addressed by
// its id (`id_…`) or by the caller's own externalId (unique per workspace among
// live identities). Keys link to identities; ratelimits can hang off either.
// Deleting is soft: the externalId becomes free again and linked keys lose the
// link. Changes call `changed`, so linked keys verify with the new state at once.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { serializeMeta } from '../../meta'
import { newId } from '../../ids'
import { badRequest, conflict, notFound } from '../../http/errors'
import {
  assertUniqueNames,
  RatelimitDefinitions,
  type RatelimitDefinition,
  type RatelimitInput,
} from '../ratelimit/definitions'
import { toPage, type Page } from '../../db/pagination'
import type { ListInput } from '../permissions/service'

export interface Identity {
  id: string
  workspaceId: string
  externalId: string
  meta: Record<string, unknown> | null
  createdAt: number
  updatedAt: number | null
}

interface IdentityRow {
  id: string
  workspace_id: string
  external_id: string
  meta: string | null
  created_at: number
  updated_at: number | null
}

/** An identity with its ratelimits, as the identities.* routes return it. */
export interface IdentityDetails extends Identity {
  ratelimits: RatelimitDefinition[]
}

export interface IdentityInput {
  externalId: string
  meta?: Record<string, unknown>
  ratelimits?: RatelimitInput[]
}

export interface IdentityUpdate {
  /** Replaces the meta when present. */
  meta?: Record<string, unknown>
  /** Replaces the whole set by name when present (surviving names keep their id). */
  ratelimits?: RatelimitInput[]
}

export const identityNotFound = () => notFound('identity', 'This identity does not exist.')

/** The meta to store (null when absent), after checking it and the ratelimit names: 400 otherwise. */
function validateInput(input: { meta?: Record<string, unknown>; ratelimits?: RatelimitInput[] }): string | undefined {
  if (input.ratelimits) assertUniqueNames(input.ratelimits, 'ratelimits')
  return input.meta === undefined ? undefined : serializeMeta(input.meta)
}

export const toIdentity = (r: IdentityRow): Identity => ({
  id: r.id,
  workspaceId: r.workspace_id,
  externalId: r.external_id,
  meta: r.meta === null ? null : JSON.parse(r.meta),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export class IdentityService {
  private readonly changeListeners: ((workspaceId: string) => void)[] = []

  /** Registers a listener told about every change that can alter what a key verifies as (the key cache). */
  onChange(listener: (workspaceId: string) => void): void {
    this.changeListeners.push(listener)
  }

  /** Call after every mutation of this service's data in `workspaceId`. */
  protected changed(workspaceId: string): void {
    for (const listener of this.changeListeners) listener(workspaceId)
  }

  protected readonly stmt

  constructor(
    protected readonly db: Database,
    protected readonly clock: Clock,
    /** Identity ratelimits live beside key ratelimits, owned by `{ identityId }`. */
    readonly ratelimits: RatelimitDefinitions = new RatelimitDefinitions(db, clock),
  ) {
    this.stmt = {
      byId: db.query<IdentityRow, [string, string]>('SELECT * FROM identities WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL'),
      byExternalId: db.query<IdentityRow, [string, string]>(
        'SELECT * FROM identities WHERE external_id = ? AND workspace_id = ? AND deleted_at IS NULL',
      ),
      insert: db.query('INSERT INTO identities (id, workspace_id, external_id, meta, created_at) VALUES (?, ?, ?, ?, ?)'),
      page: db.query<IdentityRow, [string, string, string, number]>(
        `SELECT * FROM identities WHERE workspace_id = ?1 AND deleted_at IS NULL AND id >= ?2
           AND (?3 = '' OR instr(lower(external_id), lower(?3)) > 0 OR instr(lower(id), lower(?3)) > 0)
         ORDER BY id LIMIT ?4`,
      ),
      setMeta: db.query('UPDATE identities SET meta = ?, updated_at = ? WHERE id = ?'),
      touch: db.query('UPDATE identities SET updated_at = ? WHERE id = ?'),
      softDelete: db.query('UPDATE identities SET deleted_at = ?, updated_at = ? WHERE id = ?'),
      unlinkKeys: db.query('UPDATE keys SET identity_id = NULL WHERE identity_id = ?'),
      deleteRatelimits: db.query('DELETE FROM ratelimits WHERE identity_id = ?'),
    }
  }

  /** 409 when a live identity already has the externalId; 400 for oversized meta or repeated ratelimit names. */
  create(workspaceId: string, input: IdentityInput): IdentityDetails {
    const metaJson = validateInput(input) ?? null
    if (this.findByExternalId(workspaceId, input.externalId)) {
      throw conflict('identity', `Identity with externalId '${input.externalId}' already exists in this workspace.`)
    }
    return this.db.transaction(() => {
      const identity = this.insert(workspaceId, input.externalId, input.meta ?? null, metaJson)
      const ratelimits = input.ratelimits?.length ? this.ratelimits.replace(workspaceId, { identityId: identity.id }, input.ratelimits) : []
      return { ...identity, ratelimits }
    })()
  }

  /** Like find, but a missing identity is a 404. */
  require(workspaceId: string, idOrExternalId: string): Identity {
    const identity = this.find(workspaceId, idOrExternalId)
    if (!identity) throw identityNotFound()
    return identity
  }

  /** The identity (by id or externalId) with its ratelimits; 404 when missing. */
  details(workspaceId: string, idOrExternalId: string): IdentityDetails {
    return this.withRatelimits(this.require(workspaceId, idOrExternalId))
  }

  list(workspaceId: string, input: ListInput): Page<IdentityDetails> {
    const rows = this.stmt.page.all(workspaceId, input.cursor ?? '', input.search ?? '', input.limit + 1)
    return toPage(rows, input.limit, (r) => this.withRatelimits(toIdentity(r)))
  }

  /** Applies the fields present in `update`; returns the identity afterwards. */
  update(workspaceId: string, idOrExternalId: string, update: IdentityUpdate): IdentityDetails {
    const metaJson = validateInput(update)
    const identity = this.require(workspaceId, idOrExternalId)
    const now = this.clock.now()
    this.db.transaction(() => {
      if (metaJson !== undefined) this.stmt.setMeta.run(metaJson, now, identity.id)
      else this.stmt.touch.run(now, identity.id)
      if (update.ratelimits !== undefined) this.ratelimits.replace(workspaceId, { identityId: identity.id }, update.ratelimits)
    })()
    this.changed(workspaceId)
    return this.details(workspaceId, identity.id)
  }

  /** Soft-deletes the identity: its externalId is free again, its keys lose the link, its ratelimits go. */
  delete(workspaceId: string, idOrExternalId: string): void {
    const identity = this.require(workspaceId, idOrExternalId)
    const now = this.clock.now()
    this.db.transaction(() => {
      this.stmt.softDelete.run(now, now, identity.id)
      this.stmt.unlinkKeys.run(identity.id)
      this.stmt.deleteRatelimits.run(identity.id)
    })()
    this.changed(workspaceId)
  }

  private withRatelimits(identity: Identity): IdentityDetails {
    return { ...identity, ratelimits: this.ratelimits.list({ identityId: identity.id }) }
  }

  /** The live identity with this id or externalId in the workspace (id wins), or null. */
  find(workspaceId: string, idOrExternalId: string): Identity | null {
    const row = this.stmt.byId.get(idOrExternalId, workspaceId) ?? this.stmt.byExternalId.get(idOrExternalId, workspaceId)
    return row ? toIdentity(row) : null
  }

  findByExternalId(workspaceId: string, externalId: string): Identity | null {
    const row = this.stmt.byExternalId.get(externalId, workspaceId)
    return row ? toIdentity(row) : null
  }

  /** Inserts a new identity. The caller checks uniqueness of externalId (and runs the transaction). */
  insert(
    workspaceId: string,
    externalId: string,
    meta: Record<string, unknown> | null,
    metaJson: string | null = meta === null ? null : serializeMeta(meta),
  ): Identity {
    const identity: Identity = { id: newId('id'), workspaceId, externalId, meta, createdAt: this.clock.now(), updatedAt: null }
    this.stmt.insert.run(identity.id, workspaceId, externalId, metaJson, identity.createdAt)
    return identity
  }

  /** The live identity with this externalId, created (with no meta) when absent. Run inside a transaction. */
  upsertByExternalId(workspaceId: string, externalId: string): Identity {
    return this.findByExternalId(workspaceId, externalId) ?? this.insert(workspaceId, externalId, null)
  }
}
