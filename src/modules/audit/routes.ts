// HTTP controller for audit.listLogs: the workspace's audit log, newest first,
// with the list envelope and cursor pagination of every other list route.
import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../http/auth'
import { okPage } from '../../http/request-context'
import { responses } from '../../http/schemas'
import { wildcardPermission } from '../../rbac/requirements'
import type { Services } from '../../services'
import * as m from './model'
import { auditLogView } from './view'

export type AuditRouteDeps = Pick<Services, 'audit'> & { auth: AuthPlugin }

export function auditRoutes(deps: AuditRouteDeps, prefix: string) {
  const { audit } = deps
  return new Elysia({ name: `audit${prefix}`, prefix, detail: { tags: ['audit'] } } as never).use(deps.auth).post(
    '/audit.listLogs',
    async ({ body, auth, request }) => {
      const page = await audit.list(auth.workspaceId, { ...body, limit: body.limit ?? 100 })
      return okPage(request, { ...page, items: page.items.map(auditLogView) })
    },
    {
      permission: wildcardPermission('audit', 'read_logs'),
      body: m.ListLogsBody,
      response: responses(m.ListLogsResponse),
      detail: {
        summary: 'List the audit log',
        description: `Pages through the changes made to the workspace, newest first: who made each (a root key, an operator with the \`latch\` CLI, or latch itself), what it touched, and the request it came with. Verifications and ratelimit decisions are not changes and are not logged. Events older than the \`auditRetentionDays\` tunable are deleted. Event names: ${m.AUDIT_EVENTS.map((e) => `\`${e}\``).join(', ')}.`,
      },
    },
  )
}
