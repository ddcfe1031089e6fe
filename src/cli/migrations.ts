// `latch migrations create|list`: key migrations let keys.migrateKeys import
// keys from another system by their existing hashes. A migration names the
// hash algorithm of that system; its id is passed to migrateKeys and, for
// foreign hash formats, to verifyKey until each key has been seen once.
import { MIGRATION_ALGORITHMS, type MigrationAlgorithm } from '../modules/keys/migrations'
import { RootKeyInputError } from '../modules/rootkeys/service'
import type { Services } from '../services'
import { UsageError } from './args'
import { DB_FLAG, JSON_FLAG, defineCommand, formatTable, isoOrDash, withServices, writeJson } from './command'

/** The workspace named by --workspace; an unknown one is bad input (exit 2). */
async function existingWorkspace(services: Services, idOrName: string) {
  const workspace = await services.workspaces.find(idOrName)
  if (!workspace) throw new RootKeyInputError(`no workspace named or with id '${idOrName}'`)
  return workspace
}

export const migrationsCreate = defineCommand({
  name: 'migrations create',
  summary: 'Create a key migration for keys.migrateKeys',
  usage: `migrations create --workspace <name|id> --algorithm <${MIGRATION_ALGORITHMS.join('|')}> [--json] [--db <file>]`,
  details: `sha256_base64: the hashes are base64(SHA-256(key)), latch's own format; imported keys verify at once.
sha256_hex: the hashes are hex(SHA-256(key)); pass the migration id as migrationId to
keys.verifyKey, and each key is rewritten to latch's format the first time it verifies.
With --json the output is {"migrationId","workspaceId","algorithm"}.`,
  flags: {
    workspace: { type: 'string', value: '<name|id>', description: 'Workspace the keys are imported into (must exist)', required: true },
    algorithm: { type: 'string', value: '<algorithm>', description: `How the old system hashed keys: ${MIGRATION_ALGORITHMS.join(' or ')}`, required: true },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags }, ctx) {
    const algorithm = flags.algorithm!
    if (!(MIGRATION_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new UsageError(`--algorithm must be one of ${MIGRATION_ALGORITHMS.join(', ')}, got '${algorithm}'`, 'migrations create')
    }
    return withServices(flags.db, ctx, async (services) => {
      const workspace = await existingWorkspace(services, flags.workspace!)
      const migration = await services.keyMigrations.create(workspace.id, algorithm as MigrationAlgorithm)
      if (flags.json) writeJson(ctx.stdout, { migrationId: migration.id, workspaceId: workspace.id, algorithm })
      else ctx.stdout.write(`Created migration ${migration.id} (${algorithm}) in workspace ${workspace.name} (${workspace.id}).\n`)
      return 0
    })
  },
})

export const migrationsList = defineCommand({
  name: 'migrations list',
  summary: 'List the key migrations of a workspace',
  usage: 'migrations list --workspace <name|id> [--json] [--db <file>]',
  flags: {
    workspace: { type: 'string', value: '<name|id>', description: 'Workspace to list', required: true },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags }, ctx) {
    return withServices(flags.db, ctx, async (services) => {
      const workspace = await existingWorkspace(services, flags.workspace!)
      const migrations = await services.keyMigrations.list(workspace.id)
      if (flags.json)
        writeJson(
          ctx.stdout,
          migrations.map((m) => ({ migrationId: m.id, algorithm: m.algorithm, createdAt: m.createdAt, pendingKeys: m.pendingKeys })),
        )
      else
        ctx.stdout.write(
          formatTable(
            ['ID', 'ALGORITHM', 'CREATED', 'KEYS NOT YET VERIFIED'],
            migrations.map((m) => [m.id, m.algorithm, isoOrDash(m.createdAt), String(m.pendingKeys)]),
          ),
        )
      return 0
    })
  },
})

export const migrationsCommands = [migrationsCreate, migrationsList]
