// `latch root-keys create|list|revoke|rotate`: manage the root keys that
// authenticate API calls, straight on the database file. The plaintext of a
// key is printed once, when it is created; listings show only its start.
import { ConfigError, parseDuration } from '../config'
import { RootKeyInputError, RootKeyService, type RootKeyInfo } from '../modules/rootkeys/service'
import type { WorkspaceService } from '../modules/workspaces/service'
import { DB_FLAG, JSON_FLAG, defineCommand, formatTable, isoOrDash, withServices, writeJson, writeSecret } from './command'

function positiveDuration(value: string, flag: string): number {
  const ms = parseDuration(value)
  if (ms <= 0) throw new ConfigError(`${flag} must be longer than zero, got '${value}'`)
  return ms
}

/** `name (ws_…)` for messages. */
async function describeWorkspace(workspaces: WorkspaceService, workspaceId: string): Promise<string> {
  const ws = await workspaces.find(workspaceId)
  return ws ? `${ws.name} (${ws.id})` : workspaceId
}

export const rootKeysCreate = defineCommand({
  name: 'root-keys create',
  summary: 'Create a root key and print it once',
  usage: 'root-keys create --workspace <name|id> --name <name> --permission <permission>... [--expires-in <duration>] [--json] [--db <file>]',
  details: `A permission is '*' (everything) or resourceType.resourceId.action, where the
resource type is api, ratelimit, rbac, identity, audit or root_key and the
resource id is a specific id or '*' for every resource of that type, e.g.
api.*.create_api, api.api_123.read_api or audit.*.read_logs. The workspace is created when no workspace has that name.
With --json the output is exactly {"rootKeyId","key","workspaceId"}.`,
  flags: {
    workspace: { type: 'string', value: '<name|id>', description: 'Workspace the key acts in (created if no workspace has this name)', required: true },
    name: { type: 'string', value: '<name>', description: 'A name that says what the key is for', required: true },
    permission: { type: 'strings', value: '<permission>', description: 'A permission to grant; repeat for several', required: true },
    'expires-in': { type: 'string', value: '<duration>', description: 'Make the key expire after this long, e.g. 12h, 30d, 2w' },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags }, ctx) {
    // Everything that can be checked without the database is checked before opening it.
    const permissions = RootKeyService.validatePermissions(flags.permission!)
    const expiresInMs = flags['expires-in'] === undefined ? undefined : positiveDuration(flags['expires-in'], '--expires-in')
    return withServices(flags.db, ctx, async ({ rootKeys, workspaces }) => {
      const workspace = flags.workspace!
      if (/^ws_/.test(workspace) && !(await workspaces.find(workspace))) {
        throw new RootKeyInputError(`no workspace with id '${workspace}' (to create a workspace, give its name)`)
      }
      const created = await rootKeys.create({
        workspace,
        name: flags.name!,
        permissions,
        expiresAt: expiresInMs === undefined ? null : ctx.clock.now() + expiresInMs,
      })
      if (flags.json) {
        writeJson(ctx.stdout, { rootKeyId: created.rootKeyId, key: created.key, workspaceId: created.workspaceId })
        return 0
      }
      const info = (await rootKeys.find(created.rootKeyId))!
      ctx.stdout.write(`Created root key ${info.id} "${info.name}" in workspace ${await describeWorkspace(workspaces, info.workspaceId)}.\n`)
      ctx.stdout.write(`Permissions: ${info.permissions.join(', ')}\n`)
      if (info.expiresAt !== null) ctx.stdout.write(`Expires:     ${isoOrDash(info.expiresAt)}\n`)
      writeSecret(ctx.stdout, created.key)
      return 0
    })
  },
})

/** The listing of one key: never the hash or the plaintext. */
function listedKey(k: RootKeyInfo) {
  return {
    id: k.id,
    name: k.name,
    start: k.start,
    permissions: k.permissions,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  }
}

export const rootKeysList = defineCommand({
  name: 'root-keys list',
  summary: 'List the root keys of a workspace',
  usage: 'root-keys list --workspace <name|id> [--json] [--db <file>]',
  details: `Shows each key's id, name, start (its first characters, never the secret),
permissions, and when it was created, expires, was last used and was revoked.
Times are ISO-8601 in the table and unix milliseconds in --json, which prints
an array of {"id","name","start","permissions","createdAt","expiresAt","lastUsedAt","revokedAt"}.`,
  flags: {
    workspace: { type: 'string', value: '<name|id>', description: 'Workspace whose keys to list', required: true },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags }, ctx) {
    return withServices(flags.db, ctx, async ({ rootKeys, workspaces }) => {
      const ws = await workspaces.find(flags.workspace!)
      if (!ws) throw new RootKeyInputError(`no workspace named or with id '${flags.workspace}'`)
      const keys = (await rootKeys.list(ws.id)).map(listedKey)
      if (flags.json) {
        writeJson(ctx.stdout, keys)
        return 0
      }
      if (keys.length === 0) {
        ctx.stdout.write(`Workspace ${ws.name} (${ws.id}) has no root keys.\n`)
        return 0
      }
      ctx.stdout.write(`Root keys of workspace ${ws.name} (${ws.id}):\n\n`)
      ctx.stdout.write(
        formatTable(
          ['ID', 'NAME', 'START', 'PERMISSIONS', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'],
          keys.map((k) => [
            k.id,
            k.name,
            k.start,
            k.permissions.join(','),
            isoOrDash(k.createdAt),
            isoOrDash(k.expiresAt),
            isoOrDash(k.lastUsedAt),
            isoOrDash(k.revokedAt),
          ]),
        ),
      )
      return 0
    })
  },
})

export const rootKeysRevoke = defineCommand({
  name: 'root-keys revoke',
  summary: 'Revoke a root key; it stops working at once',
  usage: 'root-keys revoke <rootKeyId> [--db <file>]',
  details: 'A running server notices the change on its next request.',
  positionals: [{ name: 'rootKeyId', description: 'The id of the key, e.g. rk_…' }],
  flags: { db: DB_FLAG },
  async run({ flags, positionals }, ctx) {
    const id = positionals[0]!
    return withServices(flags.db, ctx, async ({ rootKeys, workspaces }) => {
      const key = await rootKeys.find(id)
      if (!key) throw new RootKeyInputError(`no root key with id '${id}'`)
      if (!(await rootKeys.revoke(id))) {
        ctx.stdout.write(`Root key ${id} was already revoked at ${isoOrDash(key.revokedAt)}; nothing changed.\n`)
        return 0
      }
      ctx.stdout.write(`Revoked root key ${id} "${key.name}" of workspace ${await describeWorkspace(workspaces, key.workspaceId)}.\n`)
      return 0
    })
  },
})

export const rootKeysRotate = defineCommand({
  name: 'root-keys rotate',
  summary: 'Replace a root key with a new one with the same name and permissions',
  usage: 'root-keys rotate <rootKeyId> [--grace <duration>] [--json] [--db <file>]',
  details: `The old key stops working immediately, or after --grace (e.g. 10m, 24h) so that
clients can switch over. The new key keeps the old one's expiry, if it had one.
With --json the output is {"rootKeyId","key","workspaceId","replacedRootKeyId","replacedKeyStopsAt"}
(replacedKeyStopsAt in unix milliseconds).`,
  positionals: [{ name: 'rootKeyId', description: 'The id of the key to replace, e.g. rk_…' }],
  flags: {
    grace: { type: 'string', value: '<duration>', description: 'How long the old key keeps working (default: 0, stops at once)' },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags, positionals }, ctx) {
    const id = positionals[0]!
    const graceMs = flags.grace === undefined ? 0 : parseDuration(flags.grace)
    return withServices(flags.db, ctx, async ({ rootKeys, workspaces }) => {
      const created = await rootKeys.rotate(id, graceMs)
      if (flags.json) {
        writeJson(ctx.stdout, created)
        return 0
      }
      const old = (await rootKeys.find(id))!
      const info = (await rootKeys.find(created.rootKeyId))!
      ctx.stdout.write(`Rotated root key ${id} "${info.name}" of workspace ${await describeWorkspace(workspaces, info.workspaceId)}.\n`)
      ctx.stdout.write(`New key:     ${info.id}\n`)
      ctx.stdout.write(`Permissions: ${info.permissions.join(', ')}\n`)
      if (info.expiresAt !== null) ctx.stdout.write(`Expires:     ${isoOrDash(info.expiresAt)}\n`)
      ctx.stdout.write(
        old.revokedAt !== null ? `The old key ${id} no longer works.\n` : `The old key ${id} keeps working until ${isoOrDash(created.replacedKeyStopsAt)}.\n`,
      )
      writeSecret(ctx.stdout, created.key)
      return 0
    })
  },
})

export const rootKeysCommands = [rootKeysCreate, rootKeysList, rootKeysRevoke, rootKeysRotate]
