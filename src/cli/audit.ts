// `latch audit list`: a workspace's audit log, newest first, straight from the
// database file (the same events audit.listLogs serves): who changed what,
// when, and from where.
import { ConfigError, parseDuration } from '../config'
import { AUDIT_EVENTS, type AuditEventName } from '../modules/audit/model'
import { auditLogView } from '../modules/audit/view'
import { RootKeyInputError } from '../modules/rootkeys/service'
import { UsageError } from './args'
import { DB_FLAG, JSON_FLAG, defineCommand, formatTable, isoOrDash, withServices, writeJson } from './command'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 10_000

function eventNames(values: string[]): AuditEventName[] {
  for (const value of values) {
    if (!(AUDIT_EVENTS as readonly string[]).includes(value)) {
      throw new UsageError(`unknown audit event '${value}'; events are ${AUDIT_EVENTS.join(', ')}`, 'audit list')
    }
  }
  return values as AuditEventName[]
}

function limitOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT
  const limit = Number(value)
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_LIMIT) throw new ConfigError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got '${value}'`)
  return limit
}

/** `root_key rk_… (name)`, `cli alice`, `system latch`. */
const actorLabel = (actor: { type: string; id: string; name?: string }) => `${actor.type} ${actor.id}${actor.name ? ` (${actor.name})` : ''}`

export const auditList = defineCommand({
  name: 'audit list',
  summary: 'Show the audit log of a workspace, newest first',
  usage: 'audit list --workspace <name|id> [--event <event>]... [--since <duration>] [--limit <n>] [--json] [--db <file>]',
  details: `Every change to the workspace (over HTTP or with this CLI) is one event:
its time, name, actor (a root key, an operating-system user of the CLI, or
latch itself), the resources it touched and a one-line description. Events
older than the auditRetentionDays tunable (365 days) are deleted.
Event names: ${AUDIT_EVENTS.join(', ')}.
With --json the output is an array of
{"id","time","workspaceId","event","actor","resources","description","context"}
(times in unix milliseconds), as audit.listLogs returns them.`,
  flags: {
    workspace: { type: 'string', value: '<name|id>', description: 'Workspace whose log to show', required: true },
    event: { type: 'strings', value: '<event>', description: 'Only events with this name, e.g. key.create; repeat for several' },
    since: { type: 'string', value: '<duration>', description: 'Only events of the last <duration>, e.g. 24h, 7d' },
    limit: { type: 'string', value: '<n>', description: `At most this many events (default ${DEFAULT_LIMIT})` },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags }, ctx) {
    const events = flags.event === undefined ? undefined : eventNames(flags.event)
    const since = flags.since === undefined ? undefined : ctx.clock.now() - parseDuration(flags.since)
    const limit = limitOf(flags.limit)
    return withServices(flags.db, ctx, async ({ audit, workspaces }) => {
      const ws = await workspaces.find(flags.workspace!)
      if (!ws) throw new RootKeyInputError(`no workspace named or with id '${flags.workspace}'`)
      const { items } = await audit.list(ws.id, { events, since, limit })
      if (flags.json) {
        writeJson(ctx.stdout, items.map(auditLogView))
        return 0
      }
      if (items.length === 0) {
        ctx.stdout.write(`No audit events in workspace ${ws.name} (${ws.id}) match.\n`)
        return 0
      }
      ctx.stdout.write(
        formatTable(
          ['TIME', 'EVENT', 'ACTOR', 'DESCRIPTION'],
          items.map((e) => [isoOrDash(e.time), e.event, actorLabel(e.actor), e.description]),
        ),
      )
      return 0
    })
  },
})

export const auditCommands = [auditList]
