// SQLite store of audit_logs and audit_log_resources (migration 10). The list
// query is assembled from the filters present, so that each shape uses its
// index (workspace+time, +event, +actor, or the resource side table); SQLite
// caches each shape's prepared statement. Order is time, then `seq` (insertion
// order), newest first: ids are random.
import type { AuditActor, AuditLogStore, AuditQuery, AuditRecord } from '../stores/audit'
import type { SqliteEngine } from './engine'

interface Row {
  seq: number
  id: string
  time: number
  workspace_id: string
  event: string
  actor_type: AuditActor['type']
  actor_id: string
  actor_name: string | null
  resources: string
  description: string
  request_id: string | null
  remote_addr: string | null
  user_agent: string | null
}

const toRecord = (r: Row): AuditRecord => ({
  id: r.id,
  time: r.time,
  workspaceId: r.workspace_id,
  event: r.event,
  actor: (r.actor_name === null ? { type: r.actor_type, id: r.actor_id } : { type: r.actor_type, id: r.actor_id, name: r.actor_name }) as AuditActor,
  resources: JSON.parse(r.resources),
  description: r.description,
  requestId: r.request_id,
  remoteAddr: r.remote_addr,
  userAgent: r.user_agent,
})

type Params = Record<string, string | number>

export class SqliteAuditLogStore implements AuditLogStore {
  private readonly stmt

  constructor(private readonly sql: SqliteEngine) {
    this.stmt = {
      insert: sql.prepare(
        `INSERT INTO audit_logs (id, time, workspace_id, event, actor_type, actor_id, actor_name, resources, description, request_id, remote_addr, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertResource: sql.prepare('INSERT OR IGNORE INTO audit_log_resources (audit_seq, workspace_id, resource_id, time) VALUES (?, ?, ?, ?)'),
      oldest: sql.prepare<{ seq: number }, [number, number]>('SELECT seq FROM audit_logs WHERE time < ? ORDER BY time, seq LIMIT ?'),
      deleteResources: sql.prepare<unknown, [string]>('DELETE FROM audit_log_resources WHERE audit_seq IN (SELECT value FROM json_each(?))'),
      deleteLogs: sql.prepare<unknown, [string]>('DELETE FROM audit_logs WHERE seq IN (SELECT value FROM json_each(?))'),
    }
  }

  async insert(r: AuditRecord) {
    const actorName = 'name' in r.actor ? (r.actor.name ?? null) : null
    await this.sql.run(() =>
      this.sql.db.transaction(() => {
        const { lastInsertRowid: seq } = this.stmt.insert.run(
          r.id,
          r.time,
          r.workspaceId,
          r.event,
          r.actor.type,
          r.actor.id,
          actorName,
          JSON.stringify(r.resources),
          r.description,
          r.requestId,
          r.remoteAddr,
          r.userAgent,
        )
        for (const resource of r.resources) this.stmt.insertResource.run(seq, r.workspaceId, resource.id, r.time)
      })(),
    )
  }

  page(workspaceId: string, q: AuditQuery) {
    const where = ['a.workspace_id = $ws']
    const params: Params = { ws: workspaceId, limit: q.limit }
    // By resource, the side table's index gives that resource's events in order (CROSS JOIN
    // keeps it the outer loop); otherwise audit_logs' own indexes do.
    const byResource = q.resourceId !== undefined
    const from = byResource ? 'audit_log_resources r CROSS JOIN audit_logs a ON a.seq = r.audit_seq' : 'audit_logs a'
    const [time, seq] = byResource ? ['r.time', 'r.audit_seq'] : ['a.time', 'a.seq']
    if (byResource) {
      where.unshift('r.workspace_id = $ws AND r.resource_id = $resource')
      params.resource = q.resourceId!
    }
    if (q.events?.length === 1) {
      // One name: the (workspace, event, time) index gives its events in order.
      where.push('a.event = $event')
      params.event = q.events[0]!
    } else if (q.events?.length) {
      where.push('a.event IN (SELECT value FROM json_each($events))')
      params.events = JSON.stringify(q.events)
    }
    if (q.actorId !== undefined) {
      where.push('a.actor_id = $actor')
      params.actor = q.actorId
    }
    if (q.since !== undefined) {
      where.push(`${time} >= $since`)
      params.since = q.since
    }
    if (q.until !== undefined) {
      where.push(`${time} <= $until`)
      params.until = q.until
    }
    if (q.cursor !== '') {
      // The cursor is an event id; it must be of this workspace, or the page is empty.
      where.push(`(${time}, ${seq}) <= (SELECT time, seq FROM audit_logs WHERE id = $cursor AND workspace_id = $ws)`)
      params.cursor = q.cursor
    }
    const query = this.sql.prepare<Row, [Params]>(`SELECT a.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${time} DESC, ${seq} DESC LIMIT $limit`)
    return this.sql.run(() => query.all(params).map(toRecord))
  }

  deleteBefore(before: number, limit: number) {
    return this.sql.run(() =>
      this.sql.db.transaction(() => {
        const seqs = JSON.stringify(this.stmt.oldest.all(before, limit).map((r) => r.seq))
        this.stmt.deleteResources.run(seqs)
        return this.stmt.deleteLogs.run(seqs).changes
      })(),
    )
  }
}
