// PostgreSQL store of the ratelimits table (definitions owned by a key or an identity).
//
// `save` applies changes its caller computed from an earlier `list`. Under
// READ COMMITTED (engine.ts) another transaction may have changed the set in
// between, so `save` takes the owner's lock, checks that the set is still the
// one that was read, and otherwise runs the transaction again (which reads it
// afresh): two replacements never mix into a union of both.
import type { RatelimitChanges, RatelimitDefinition, RatelimitDefinitionStore, RatelimitOwner } from '../stores/ratelimitDefinitions'
import type { PostgresEngine } from './engine'
import { num } from './values'

interface Row {
  id: string
  name: string
  limit: bigint
  duration: bigint
  auto_apply: boolean
}

const toDefinition = (r: Row): RatelimitDefinition => ({
  id: r.id,
  name: r.name,
  limit: num(r.limit),
  duration: num(r.duration),
  autoApply: r.auto_apply,
})

const ownerColumn = (owner: RatelimitOwner) => ('keyId' in owner ? { column: 'key_id', id: owner.keyId } : { column: 'identity_id', id: owner.identityId })

export class PostgresRatelimitDefinitionStore implements RatelimitDefinitionStore {
  constructor(private readonly sql: PostgresEngine) {}

  async list(owner: RatelimitOwner) {
    const { column, id } = ownerColumn(owner)
    return (await this.sql.all<Row>(`SELECT * FROM ratelimits WHERE ${column} = $1 ORDER BY name`, [id])).map(toDefinition)
  }

  save(workspaceId: string, owner: RatelimitOwner, changes: RatelimitChanges, at: number) {
    const keyId = 'keyId' in owner ? owner.keyId : null
    const identityId = 'identityId' in owner ? owner.identityId : null
    const { column, id: ownerId } = ownerColumn(owner)
    return this.sql.atomic(async () => {
      await this.sql.run("SELECT pg_advisory_xact_lock(hashtextextended('latch ratelimits ' || $1, 0))", [ownerId])
      // The ids the caller read are exactly those it updates or removes.
      const read = [...changes.update.map((d) => d.id), ...changes.remove].sort()
      const now = (await this.sql.all<{ id: string }>(`SELECT id FROM ratelimits WHERE ${column} = $1`, [ownerId])).map((r) => r.id).sort()
      if (now.length !== read.length || now.some((id, i) => id !== read[i])) this.sql.rerunIfInTransaction('ratelimits changed meanwhile')
      for (const d of changes.update) {
        await this.sql.run('UPDATE ratelimits SET "limit" = $1, duration = $2, auto_apply = $3 WHERE id = $4', [d.limit, d.duration, d.autoApply, d.id])
      }
      for (const d of changes.insert) {
        await this.sql.run(
          'INSERT INTO ratelimits (id, workspace_id, key_id, identity_id, name, "limit", duration, auto_apply, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
          [d.id, workspaceId, keyId, identityId, d.name, d.limit, d.duration, d.autoApply, at],
        )
      }
      for (const id of changes.remove) await this.sql.run('DELETE FROM ratelimits WHERE id = $1', [id])
    })
  }

  async removeAll(owner: RatelimitOwner) {
    const { column, id } = ownerColumn(owner)
    await this.sql.run(`DELETE FROM ratelimits WHERE ${column} = $1`, [id])
  }
}
