// The audit log's vocabulary and the schemas of audit.listLogs. AUDIT_EVENTS
// is the one list of event names: services record only these, the route's
// `events` filter accepts only these, and the OpenAPI document shows them.
import { t } from 'elysia'
import { body, Int, paginated } from '../../http/schemas'

/** Every event the audit log records: `<resource>.<change>`, one per mutation. */
export const AUDIT_EVENTS = [
  'workspace.create',
  'root_key.create',
  'root_key.revoke',
  'root_key.rotate',
  'api.create',
  'api.update',
  'api.delete',
  'key.create',
  'key.update',
  'key.delete',
  'key.reroll',
  'key.update_credits',
  'key.add_permissions',
  'key.remove_permissions',
  'key.set_permissions',
  'key.add_roles',
  'key.remove_roles',
  'key.set_roles',
  'key.migrate',
  'migration.create',
  'identity.create',
  'identity.update',
  'identity.delete',
  'permission.create',
  'permission.delete',
  'role.create',
  'role.delete',
  'role.set_permissions',
  'ratelimit.create_namespace',
  'ratelimit.delete_namespace',
  'ratelimit.set_override',
  'ratelimit.delete_override',
] as const

export type AuditEventName = (typeof AUDIT_EVENTS)[number]

// No `default` (Elysia's UnionEnum would show the first name as one in the OpenAPI document).
const EventName = t.UnionEnum(AUDIT_EVENTS, { description: 'An audit event name.', default: undefined })
const ResourceId = t.String({ minLength: 1, maxLength: 255 })
const UnixMs = Int({ minimum: 0 })

export const ListLogsBody = body({
  events: t.Optional(t.Array(EventName, { minItems: 1, maxItems: AUDIT_EVENTS.length, description: 'Only events with one of these names.' })),
  actorId: t.Optional(
    t.String({ ...ResourceId, description: 'Only events made by this actor: a root key id (`rk_…`), an operating-system user (CLI) or `latch`.' }),
  ),
  resourceId: t.Optional(t.String({ ...ResourceId, description: 'Only events that touched the resource with this id (`key_…`, `api_…`, `perm_…`, …).' })),
  since: t.Optional({ ...UnixMs, description: 'Only events at or after this time (unix ms).' }),
  until: t.Optional({ ...UnixMs, description: 'Only events at or before this time (unix ms).' }),
  limit: t.Optional(Int({ minimum: 1, maximum: 100, default: 100, description: 'Page size.' })),
  cursor: t.Optional(t.String({ maxLength: 1024, description: 'The `pagination.cursor` of the previous page.' })),
})

const Resource = t.Object({ type: t.String(), id: t.String(), name: t.Optional(t.String()) })

export const AuditLogItem = t.Object({
  id: t.String({ description: 'The event id (`audit_…`).' }),
  time: Int({ description: 'When the change was committed (unix ms).' }),
  workspaceId: t.String(),
  event: t.String({ description: 'The event name, e.g. `key.create`.' }),
  actor: t.Object(
    {
      type: t.UnionEnum(['root_key', 'cli', 'system'], { default: undefined }),
      id: t.String(),
      name: t.Optional(t.String({ description: 'The root key’s name.' })),
    },
    { description: 'Who made the change: a root key over HTTP, an operator with the `latch` CLI, or latch itself (`system`).' },
  ),
  resources: t.Array(Resource, { description: 'What the change touched.' }),
  description: t.String({ description: 'One line saying what happened.' }),
  context: t.Object({
    requestId: t.Optional(t.String()),
    remoteAddr: t.Optional(t.String()),
    userAgent: t.Optional(t.String()),
  }),
})

export const ListLogsResponse = paginated(AuditLogItem)

export type ListLogsInput = typeof ListLogsBody.static
export type AuditLogView = typeof AuditLogItem.static
