// Named ratelimit definitions attached to a key or an identity
// ({ id rl_…, name, limit, duration, autoApply }). Names are unique per owner.
// Replacing a set keeps the id of every name that survives.
import type { Clock } from '../../clock'
import type { Stores } from '../../db/stores'
import type { RatelimitDefinition, RatelimitOwner } from '../../db/stores/ratelimitDefinitions'
import { badRequest } from '../../errors'
import { newId } from '../../ids'
import type { RatelimitRequest } from './model'

export type { RatelimitDefinition, RatelimitOwner }

export type RatelimitInput = typeof RatelimitRequest.static

/** 400 when a request names the same ratelimit twice. */
export function assertUniqueNames(inputs: RatelimitInput[], field: string): void {
  const seen = new Set<string>()
  for (const [i, r] of inputs.entries()) {
    if (seen.has(r.name)) {
      throw badRequest(`Ratelimit with name '${r.name}' is already defined in the request`, [
        { location: `body.${field}[${i}].name`, message: `duplicate ratelimit name '${r.name}'`, fix: 'Give every ratelimit a distinct name.' },
      ])
    }
    seen.add(r.name)
  }
}

export class RatelimitDefinitionService {
  constructor(
    private readonly stores: Pick<Stores, 'transaction' | 'ratelimitDefinitions'>,
    private readonly clock: Clock,
  ) {}

  /** The owner's definitions ordered by name. */
  list(owner: RatelimitOwner): Promise<RatelimitDefinition[]> {
    return this.stores.ratelimitDefinitions.list(owner)
  }

  /**
   * Makes the owner's set exactly `inputs`: names that exist keep their id and
   * are updated, new names are added, missing names are removed. Joins the
   * caller's transaction (or runs its own); names must already be unique
   * (assertUniqueNames). Returns the set afterwards.
   */
  replace(workspaceId: string, owner: RatelimitOwner, inputs: RatelimitInput[]): Promise<RatelimitDefinition[]> {
    return this.stores.transaction(async () => {
      const existing = new Map((await this.list(owner)).map((d) => [d.name, d]))
      const insert: RatelimitDefinition[] = []
      const update: RatelimitDefinition[] = []
      for (const input of inputs) {
        const current = existing.get(input.name)
        const definition = { name: input.name, limit: input.limit, duration: input.duration, autoApply: input.autoApply ?? false }
        if (current) {
          update.push({ id: current.id, ...definition })
          existing.delete(input.name)
        } else {
          insert.push({ id: newId('rl'), ...definition })
        }
      }
      const remove = [...existing.values()].map((d) => d.id)
      await this.stores.ratelimitDefinitions.save(workspaceId, owner, { insert, update, remove }, this.clock.now())
      return this.list(owner)
    })
  }

  /** Deletes every definition of the owner (joins the caller's transaction). */
  removeAll(owner: RatelimitOwner): Promise<void> {
    return this.stores.ratelimitDefinitions.removeAll(owner)
  }
}
