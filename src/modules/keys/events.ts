// Verification events and last-used times, buffered in memory and written in
// one transaction per batch (on a timer, when the buffer fills, and at
// shutdown), so that verifyKey adds no synchronous write per call.
import type { Database } from '../../db/database'

export interface VerificationEvent {
  time: number
  workspaceId: string
  apiId: string | null
  keyId: string | null
  identityId: string | null
  outcome: string
  tags: string[]
  creditsSpent: number
}

export class VerificationLog {
  private events: VerificationEvent[] = []
  private readonly lastUsed = new Map<string, number>()
  private readonly stmt

  constructor(
    private readonly db: Database,
    private readonly maxBuffered = 5_000,
  ) {
    this.stmt = {
      insert: db.query(
        `INSERT INTO verification_events (time, workspace_id, api_id, key_id, identity_id, outcome, tags, credits_spent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      touch: db.query('UPDATE keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)'),
    }
  }

  record(event: VerificationEvent): void {
    this.events.push(event)
    if (event.keyId && event.outcome !== 'NOT_FOUND') this.lastUsed.set(event.keyId, event.time)
    if (this.events.length >= this.maxBuffered) this.flush()
  }

  /** Pending last-used time of a key, newer than the database's. */
  pendingLastUsed(keyId: string): number | undefined {
    return this.lastUsed.get(keyId)
  }

  get buffered(): number {
    return this.events.length
  }

  flush(): void {
    if (this.events.length === 0 && this.lastUsed.size === 0) return
    const events = this.events
    const lastUsed = [...this.lastUsed]
    this.events = []
    this.lastUsed.clear()
    this.db.transaction(() => {
      for (const e of events) {
        this.stmt.insert.run(e.time, e.workspaceId, e.apiId, e.keyId, e.identityId, e.outcome, e.tags.length ? JSON.stringify(e.tags) : null, e.creditsSpent)
      }
      for (const [keyId, at] of lastUsed) this.stmt.touch.run(at, keyId)
    })()
  }
}
