// Named ratelimit definitions attached to a key or an identity
// ({ id rl_…, name, limit, duration, autoApply }). Names are unique per owner.
// Replacing a set keeps the id of every name that survives.
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'
import { newId } from '../../ids'
import { badRequest } from '../../http/errors'

export interface RatelimitDefinition {
  id: string
  name: string
  limit: number
  duration: number
  autoApply: boolean
}

export interface RatelimitInput {
  name: string
  limit: number
  duration: number
  autoApply?: boolean
}

export type RatelimitOwner = { keyId: string } | { identityId: string }

interface Row {
  id: string
  name: string
  limit: number
  duration: number
  auto_apply: number
}

const toDefinition = (r: Row): RatelimitDefinition => ({
  id: r.id,
  name: r.name,
  limit: r.limit,
  duration: r.duration,
  autoApply: r.auto_apply === 1,
})

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

export class RatelimitDefinitions {
  private readonly stmt

  constructor(
    db: Database,
    private readonly clock: Clock,
  ) {
    this.stmt = {
      forKey: db.query<Row, [string]>('SELECT * FROM ratelimits WHERE key_id = ? ORDER BY name'),
      forIdentity: db.query<Row, [string]>('SELECT * FROM ratelimits WHERE identity_id = ? ORDER BY name'),
      insert: db.query(
        'INSERT INTO ratelimits (id, workspace_id, key_id, identity_id, name, "limit", duration, auto_apply, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: db.query('UPDATE ratelimits SET "limit" = ?, duration = ?, auto_apply = ? WHERE id = ?'),
      remove: db.query('DELETE FROM ratelimits WHERE id = ?'),
    }
  }

  list(owner: RatelimitOwner): RatelimitDefinition[] {
    const rows = 'keyId' in owner ? this.stmt.forKey.all(owner.keyId) : this.stmt.forIdentity.all(owner.identityId)
    return rows.map(toDefinition)
  }

  /**
   * Makes the owner's set exactly `inputs`: names that exist keep their id and
   * are updated, new names are added, missing names are removed. Run inside a
   * transaction; names must already be unique (assertUniqueNames).
   */
  replace(workspaceId: string, owner: RatelimitOwner, inputs: RatelimitInput[]): RatelimitDefinition[] {
    const existing = new Map(this.list(owner).map((d) => [d.name, d]))
    const keyId = 'keyId' in owner ? owner.keyId : null
    const identityId = 'identityId' in owner ? owner.identityId : null
    const now = this.clock.now()
    for (const input of inputs) {
      const autoApply = input.autoApply ? 1 : 0
      const current = existing.get(input.name)
      if (current) {
        this.stmt.update.run(input.limit, input.duration, autoApply, current.id)
        existing.delete(input.name)
      } else {
        this.stmt.insert.run(newId('rl'), workspaceId, keyId, identityId, input.name, input.limit, input.duration, autoApply, now)
      }
    }
    for (const stale of existing.values()) this.stmt.remove.run(stale.id)
    return this.list(owner)
  }
}
