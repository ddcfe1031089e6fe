// What every CLI command shares: the context it runs in (streams, environment,
// working directory, clock), its declaration (flags + help text), and opening
// the database named by --db / LATCH_DB / LATCH_DATA_DIR, or the PostgreSQL
// database of LATCH_DATABASE_URL. Changes a command makes are audited as the
// operating-system user who ran it.
import { userInfo } from 'node:os'
import type { Clock } from '../clock'
import { type Config, ConfigError, loadConfig } from '../config'
import { openStores } from '../db/open'
import { type AuditContext, withActor } from '../modules/audit/context'
import { createServices, type Services } from '../services'
import type { FlagSpec, FlagSpecs, ParsedArgs } from './args'

export interface Writer {
  write(text: string): unknown
}

/** Everything a command may touch outside its arguments, so tests can supply their own. */
export interface CliContext {
  stdout: Writer
  stderr: Writer
  env: Record<string, string | undefined>
  cwd: string
  clock: Clock
  /**
   * `serve` only: when given, the server stops once this is aborted and the
   * command returns 0. Without it, SIGINT/SIGTERM stop the server and exit.
   */
  signal?: AbortSignal
}

export interface Command<S extends FlagSpecs = FlagSpecs> {
  /** As typed after `latch`, e.g. `root-keys create`. */
  name: string
  summary: string
  /** The usage line after `latch `, e.g. `root-keys revoke <rootKeyId> [--db <file>]`. */
  usage: string
  /** Further paragraphs for `--help`. */
  details?: string
  positionals?: { name: string; description: string }[]
  flags: S
  run(args: ParsedArgs<S>, ctx: CliContext): Promise<number>
}

/** Declares a command with its flag types inferred from `flags`. */
export const defineCommand = <S extends FlagSpecs>(command: Command<S>): Command<S> => command

export const DB_FLAG = {
  type: 'string',
  value: '<file>',
  description: 'SQLite database file (default: $LATCH_DB, else ./data/latch.db or $LATCH_DATA_DIR/latch.db)',
} as const satisfies FlagSpec

export const JSON_FLAG = { type: 'boolean', description: 'Print JSON instead of text' } as const satisfies FlagSpec

/** The audit actor of a CLI command: the operating-system user (from the environment when the user database has no entry). */
export function cliActor(env: Record<string, string | undefined>): AuditContext {
  let user: string | undefined
  try {
    user = userInfo().username
  } catch {
    user = env.USER ?? env.USERNAME
  }
  return { actor: { type: 'cli', id: user || 'unknown' } }
}

/** The configuration of a command that works on the database: a PORT meant for serve must not break it. */
export function databaseConfig(db: string | undefined, ctx: CliContext): Config {
  return loadConfig({ db }, { ...ctx.env, PORT: undefined }, ctx.cwd)
}

/** databaseConfig for a command that only knows SQLite files (backup, restore): PostgreSQL is refused, naming its own tools. */
export function sqliteConfig(db: string | undefined, ctx: CliContext, command: string, instead: string): Config {
  const config = databaseConfig(db, ctx)
  if (config.databaseUrl !== null) {
    throw new ConfigError(`latch ${command} works on a SQLite database file, but LATCH_DATABASE_URL selects PostgreSQL; ${instead} (see README, PostgreSQL)`)
  }
  return config
}

/**
 * Opens the database the flags and environment point at, builds latch's
 * services over it (no HTTP app), runs `work` as the CLI user (the actor of
 * the audit events it causes), writes what it batched, and always closes the
 * database.
 */
export async function withServices<T>(db: string | undefined, ctx: CliContext, work: (services: Services) => T | Promise<T>): Promise<T> {
  const config = databaseConfig(db, ctx)
  const opened = await openStores(config)
  try {
    const services = createServices({ stores: opened.stores, clock: ctx.clock, tunables: config.tunables })
    const result = await withActor(cliActor(ctx.env), () => work(services))
    await services.flush()
    return result
  } finally {
    await opened.close()
  }
}

/** ISO-8601 for a unix-ms time, `-` for none. */
export const isoOrDash = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString())

export const writeJson = (out: Writer, value: unknown): void => {
  out.write(JSON.stringify(value) + '\n')
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** Printed under plaintext keys: latch stores only hashes, so it cannot show them again. */
export const shownOnceWarning = (count = 1): string =>
  count === 1
    ? 'This is the only time latch shows this key: store it now (latch keeps only its hash).'
    : 'This is the only time latch shows these keys: store them now (latch keeps only their hashes).'

/** Prints a plaintext key on its own indented line, followed by the warning. */
export function writeSecret(out: Writer, key: string): void {
  out.write(`\n    ${key}\n\n${shownOnceWarning()}\n`)
}
