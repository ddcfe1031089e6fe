// SQLite store of the ratelimits table (definitions owned by a key or an identity).
import type { RatelimitChanges, RatelimitDefinition, RatelimitDefinitionStore, RatelimitOwner } from '../stores/ratelimitDefinitions'
import type { SqliteEngine } from './engine'

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

export class SqliteRatelimitDefinitionStore implements RatelimitDefinitionStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      forKey: sql.prepare<Row, [string]>('SELECT * FROM ratelimits WHERE key_id = ? ORDER BY name'),
      forIdentity: sql.prepare<Row, [string]>('SELECT * FROM ratelimits WHERE identity_id = ? ORDER BY name'),
      insert: sql.prepare(
        'INSERT INTO ratelimits (id, workspace_id, key_id, identity_id, name, "limit", duration, auto_apply, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: sql.prepare('UPDATE ratelimits SET "limit" = ?, duration = ?, auto_apply = ? WHERE id = ?'),
      remove: sql.prepare('DELETE FROM ratelimits WHERE id = ?'),
      removeForKey: sql.prepare('DELETE FROM ratelimits WHERE key_id = ?'),
      removeForIdentity: sql.prepare('DELETE FROM ratelimits WHERE identity_id = ?'),
    }
  }

  list(owner: RatelimitOwner) {
    return this.sql.run(() => ('keyId' in owner ? this.stmt.forKey.all(owner.keyId) : this.stmt.forIdentity.all(owner.identityId)).map(toDefinition))
  }

  async save(workspaceId: string, owner: RatelimitOwner, changes: RatelimitChanges, at: number) {
    const keyId = 'keyId' in owner ? owner.keyId : null
    const identityId = 'identityId' in owner ? owner.identityId : null
    await this.sql.run(() =>
      this.sql.db.transaction(() => {
        for (const d of changes.update) this.stmt.update.run(d.limit, d.duration, d.autoApply ? 1 : 0, d.id)
        for (const d of changes.insert) {
          this.stmt.insert.run(d.id, workspaceId, keyId, identityId, d.name, d.limit, d.duration, d.autoApply ? 1 : 0, at)
        }
        for (const id of changes.remove) this.stmt.remove.run(id)
      })(),
    )
  }

  async removeAll(owner: RatelimitOwner) {
    await this.sql.run(() => ('keyId' in owner ? this.stmt.removeForKey.run(owner.keyId) : this.stmt.removeForIdentity.run(owner.identityId)))
  }
}
