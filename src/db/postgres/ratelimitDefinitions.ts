// PostgreSQL store of the ratelimits table (definitions owned by a key or an identity).
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
    return this.sql.atomic(async () => {
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
