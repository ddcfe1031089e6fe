// The audit log: audit_logs (one row per change to a workspace: what, who,
// when, from where) and audit_log_resources (the ids each event touched, so
// that listing the events of one resource is an index lookup). Rows are only
// ever inserted and, past the retention period, deleted; never updated.

/** Who made a change: a root key (HTTP), an operator at the command line, or latch itself. */
export type AuditActor = { type: 'root_key'; id: string; name?: string } | { type: 'cli'; id: string } | { type: 'system'; id: string }

/** Something an event touched, e.g. `{ type: 'key', id: 'key_…', name: 'ci' }`. */
export interface AuditResource {
  type: string
  id: string
  name?: string
}

export interface AuditRecord {
  id: string
  /** Unix ms. */
  time: number
  workspaceId: string
  event: string
  actor: AuditActor
  resources: AuditResource[]
  description: string
  requestId: string | null
  remoteAddr: string | null
  userAgent: string | null
}

/** A page of one workspace's events, newest first; every given filter must hold. */
export interface AuditQuery {
  /** Any of these event names. */
  events?: readonly string[]
  actorId?: string
  /** Events that touched this resource. */
  resourceId?: string
  /** At or after (unix ms). */
  since?: number
  /** At or before (unix ms). */
  until?: number
  /** The id of the first event of the page ('' for the first page): it and everything older. */
  cursor: string
  limit: number
}

export interface AuditLogStore {
  /** Stores one event and its resource index rows, atomically. */
  insert(record: AuditRecord): Promise<void>
  /** Events newest first (by time, then the order they were written in); a cursor of another workspace (or pruned) gives none. */
  page(workspaceId: string, query: AuditQuery): Promise<AuditRecord[]>
  /** Deletes at most `limit` of the oldest events older than `before` (unix ms); returns how many. */
  deleteBefore(before: number, limit: number): Promise<number>
}
