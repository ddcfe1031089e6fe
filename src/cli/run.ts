// The latch command line: picks the command from argv, parses its flags, runs
// it, and turns failures into a message and an exit code:
//   0 success, 1 the command could not be carried out (e.g. the database is
//   newer than this binary), 2 bad input (usage, flags, permissions, ids).
import { VERSION } from '../version'
import { systemClock } from '../clock'
import { ConfigError } from '../config'
import { RootKeyInputError } from '../modules/rootkeys/service'
import { UsageError, parseArgs, wantsHelp } from './args'
import { auditCommands } from './audit'
import { backupCommand, restoreCommand } from './backup'
import type { CliContext, Command } from './command'
import { commandHelp, generalHelp, groupHelp } from './help'
import { migrateStoreCommand } from './migrate-store'
import { migrationsCommands } from './migrations'
import { rootKeysCommands } from './root-keys'
import { seedCommand } from './seed'
import { serveCommand } from './serve'

export type { CliContext } from './command'

export const COMMANDS: readonly Command<any>[] = [
  serveCommand,
  seedCommand,
  ...rootKeysCommands,
  ...migrationsCommands,
  ...auditCommands,
  backupCommand,
  restoreCommand,
  migrateStoreCommand,
]

const GROUPS: Record<string, readonly Command<any>[]> = { 'root-keys': rootKeysCommands, migrations: migrationsCommands, audit: auditCommands }

/** Runs one invocation of the executable; resolves to its exit code. */
export async function runCli(argv: readonly string[], context: Partial<CliContext> = {}): Promise<number> {
  const ctx: CliContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    clock: systemClock,
    ...context,
  }
  try {
    return await dispatch(argv, ctx)
  } catch (error) {
    return reportFailure(error, ctx)
  }
}

function dispatch(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined) return runCommand(serveCommand, [], ctx)
  if (first === '--version') {
    ctx.stdout.write(`latch ${VERSION}\n`)
    return Promise.resolve(0)
  }
  if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) {
    ctx.stdout.write(generalHelp(COMMANDS))
    return Promise.resolve(0)
  }
  if (first === 'help') return dispatch([...rest, '--help'], ctx)
  // `latch --port 4000` is `latch serve --port 4000`.
  if (first.startsWith('-')) return runCommand(serveCommand, argv, ctx)

  const group = GROUPS[first]
  if (group) {
    const [sub, ...subArgs] = rest
    if (sub === '--help' || sub === '-h') {
      ctx.stdout.write(groupHelp(first, group))
      return Promise.resolve(0)
    }
    if (sub === undefined) throw new UsageError(`'${first}' needs a command: ${group.map((c) => c.name.split(' ')[1]).join(', ')}`, first)
    const command = group.find((c) => c.name === `${first} ${sub}`)
    if (!command) throw new UsageError(`unknown ${first} command '${sub}'`, first)
    return runCommand(command, subArgs, ctx)
  }
  const command = COMMANDS.find((c) => c.name === first)
  if (!command) throw new UsageError(`unknown command '${first}'`)
  return runCommand(command, rest, ctx)
}

async function runCommand(command: Command<any>, args: readonly string[], ctx: CliContext): Promise<number> {
  if (wantsHelp(args)) {
    ctx.stdout.write(commandHelp(command))
    return 0
  }
  const parsed = parseArgs(args, command.flags, { positionals: command.positionals?.map((p) => p.name), command: command.name })
  return command.run(parsed, ctx)
}

function reportFailure(error: unknown, ctx: CliContext): number {
  if (error instanceof UsageError) {
    ctx.stderr.write(`latch: ${error.message}\nRun 'latch ${error.command ? `${error.command} ` : ''}--help' for usage.\n`)
    return 2
  }
  if (error instanceof ConfigError || error instanceof RootKeyInputError) {
    ctx.stderr.write(`latch: ${error.message}\n`)
    return 2
  }
  // Everything else, DatabaseTooNewError included, is a failure to carry the command out.
  ctx.stderr.write(`latch: ${error instanceof Error ? error.message : String(error)}\n`)
  return 1
}
