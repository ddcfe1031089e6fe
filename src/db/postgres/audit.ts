// PostgreSQL store of audit_logs and audit_log_resources. As in SQLite, the
// list query is assembled from the filters present so that each shape uses
// its index (workspace+time, +event, +actor, or the resource side table), and
// events are ordered by time, then `seq` (insertion order), newest first.
import type { AuditActor, AuditLogStore, AuditQuery, AuditRecord } from '../stores/audit'
import type { Param, PostgresEngine } from './engine'
import { num } from './values'

interface Row {
  seq: bigint
  id: string
  time: bigint
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
  time: num(r.time),
  workspaceId: r.workspace_id,
  event: r.event,
  actor: (r.actor_name === null ? { type: r.actor_type, id: r.actor_id } : { type: r.actor_type, id: r.actor_id, name: r.actor_name }) as AuditActor,
  resources: JSON.parse(r.resources),
  description: r.description,
  requestId: r.request_id,
  remoteAddr: r.remote_addr,
  userAgent: r.user_agent,
})

export class PostgresAuditLogStore implements AuditLogStore {
  constructor(private readonly sql: PostgresEngine) {}

  /** The event and its resource rows in one statement. */
  async insert(r: AuditRecord) {
    const actorName = 'name' in r.actor ? (r.actor.name ?? null) : null
    await this.sql.run(
      `WITH event AS (
         INSERT INTO audit_logs (id, time, workspace_id, event, actor_type, actor_id, actor_name, resources, description, request_id, remote_addr, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq)
       INSERT INTO audit_log_resources (audit_seq, workspace_id, resource_id, time)
         SELECT DISTINCT event.seq, $3, resource.id, $2::bigint FROM event, json_to_recordset($8::text::json) AS resource(id text)
       ON CONFLICT DO NOTHING`,
      [
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
      ],
    )
  }

  async page(workspaceId: string, q: AuditQuery) {
    const params: Param[] = [workspaceId]
    const bind = (value: Param) => {
      params.push(value)
      return `$${params.length}`
    }
    const where = ['a.workspace_id = $1']
    const byResource = q.resourceId !== undefined
    const from = byResource ? 'audit_log_resources r JOIN audit_logs a ON a.seq = r.audit_seq' : 'audit_logs a'
    const [time, seq] = byResource ? ['r.time', 'r.audit_seq'] : ['a.time', 'a.seq']
    if (byResource) where.unshift(`r.workspace_id = $1 AND r.resource_id = ${bind(q.resourceId!)}`)
    if (q.events?.length === 1) where.push(`a.event = ${bind(q.events[0]!)}`)
    else if (q.events?.length) where.push(`a.event IN (SELECT json_array_elements_text(${bind(JSON.stringify(q.events))}::text::json))`)
    if (q.actorId !== undefined) where.push(`a.actor_id = ${bind(q.actorId)}`)
    if (q.since !== undefined) where.push(`${time} >= ${bind(q.since)}`)
    if (q.until !== undefined) where.push(`${time} <= ${bind(q.until)}`)
    // The cursor is an event id; it must be of this workspace, or the page is empty.
    if (q.cursor !== '') where.push(`(${time}, ${seq}) <= (SELECT time, seq FROM audit_logs WHERE id = ${bind(q.cursor)} AND workspace_id = $1)`)
    const limit = bind(q.limit)
    const rows = await this.sql.all<Row>(`SELECT a.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${time} DESC, ${seq} DESC LIMIT ${limit}`, params)
    return rows.map(toRecord)
  }

  async deleteBefore(before: number, limit: number) {
    // The resource rows go with their events (ON DELETE CASCADE).
    return this.sql.run('DELETE FROM audit_logs WHERE seq IN (SELECT seq FROM audit_logs WHERE time < $1 ORDER BY time, seq LIMIT $2)', [before, limit])
  }
}
