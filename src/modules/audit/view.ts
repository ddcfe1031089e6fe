// An audit event as audit.listLogs and `latch audit list --json` show it:
// absent request facts are left out rather than null.
import type { AuditLogView } from './model'
import type { AuditRecord } from './service'

export function auditLogView(r: AuditRecord): AuditLogView {
  const context: AuditLogView['context'] = {}
  if (r.requestId !== null) context.requestId = r.requestId
  if (r.remoteAddr !== null) context.remoteAddr = r.remoteAddr
  if (r.userAgent !== null) context.userAgent = r.userAgent
  return { id: r.id, time: r.time, workspaceId: r.workspaceId, event: r.event, actor: r.actor, resources: r.resources, description: r.description, context }
}
