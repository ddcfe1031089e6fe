// `latch seed`: development, staging and production workspaces with one `*`
// root key each (logic in src/modules/rootkeys/seed.ts). Prints each new key
// exactly once.
import { SEED_WORKSPACES, seedWorkspaces, type SeedResult } from '../modules/rootkeys/seed'
import { DB_FLAG, JSON_FLAG, defineCommand, formatTable, shownOnceWarning, withServices, writeJson } from './command'

/** The --json output: `key` only for keys issued by this run. */
export function seedJson(result: SeedResult) {
  return Object.fromEntries(
    SEED_WORKSPACES.map((name) => {
      const { workspaceId, rootKeyId, key } = result[name]
      return [name, key === undefined ? { workspaceId, rootKeyId } : { workspaceId, rootKeyId, key }]
    }),
  )
}

export const seedCommand = defineCommand({
  name: 'seed',
  summary: 'Create development, staging and production workspaces with a root key each',
  usage: 'seed [--rotate] [--json] [--db <file>]',
  details: `Each workspace gets one root key named "seed" with permission '*'; the keys
are printed once. Running seed again changes nothing and prints no key
(only the ids); --rotate issues new keys and revokes the previous seed keys.
With --json the output is one object:
  {"development":{"workspaceId","rootKeyId","key"},"staging":{...},"production":{...}}
where "key" is present only for keys issued by this run.`,
  flags: {
    rotate: { type: 'boolean', description: 'Replace the seed keys with new ones; the old ones stop working at once' },
    json: JSON_FLAG,
    db: DB_FLAG,
  },
  async run({ flags }, ctx) {
    return withServices(flags.db, ctx, async (services) => {
      const result = await seedWorkspaces(services, ctx.clock, { rotate: flags.rotate === true })
      if (flags.json) {
        writeJson(ctx.stdout, seedJson(result))
        return 0
      }
      const issued = SEED_WORKSPACES.filter((name) => result[name].key !== undefined)
      if (issued.length === 0) {
        ctx.stdout.write('The seed keys already exist; nothing changed. Run `latch seed --rotate` to replace them.\n\n')
      }
      const verb = { created: 'created', rotated: 'rotated (previous key revoked)', existing: 'already exists, unchanged' }
      ctx.stdout.write(
        formatTable(
          ['WORKSPACE', 'WORKSPACE ID', 'ROOT KEY ID', 'STATUS'],
          SEED_WORKSPACES.map((name) => [name, result[name].workspaceId, result[name].rootKeyId, verb[result[name].status]]),
        ),
      )
      if (issued.length > 0) {
        ctx.stdout.write(`\nRoot keys (permission '*'):\n\n`)
        for (const name of issued) ctx.stdout.write(`  ${name.padEnd(12)} ${result[name].key}\n`)
        ctx.stdout.write(`\n${shownOnceWarning(issued.length)}\n`)
      }
      return 0
    })
  },
})
