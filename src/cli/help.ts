// Help text, generated from the command declarations so that it cannot drift
// from the flags the parser accepts.
import { VERSION } from '../version'
import type { FlagSpec } from './args'
import type { Command } from './command'

const ENVIRONMENT: [string, string][] = [
  ['PORT', 'Port for serve (default 3000)'],
  ['HOST', 'Address for serve to bind (default 0.0.0.0)'],
  ['LATCH_DB', 'SQLite database file (default $LATCH_DATA_DIR/latch.db)'],
  ['LATCH_DATA_DIR', 'Directory for the default database (default ./data)'],
  ['LATCH_DATABASE_URL', 'PostgreSQL URL (cluster mode, with LATCH_REDIS_URL); default: the SQLite file'],
  ['LATCH_REDIS_URL', 'Redis URL (cluster mode, with LATCH_DATABASE_URL)'],
  ['LATCH_DATABASE_POOL_SIZE', 'Connections each node keeps to PostgreSQL (default 10)'],
  ['LATCH_MASTER_KEY', '32-byte key (base64 or hex) for recoverable keys'],
  ['LATCH_MASTER_KEY_FILE', 'File holding the master key (default master.key beside the SQLite file)'],
  ['LATCH_LOG', "'off' disables the per-request log lines"],
]

function columns(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n')
}

/** ` (a, b)` from the non-empty notes, or nothing. */
const note = (notes: string[]): string => {
  const present = notes.filter(Boolean)
  return present.length ? ` (${present.join(', ')})` : ''
}

function flagLabel(name: string, spec: FlagSpec): string {
  return `--${name}${spec.value ? ` ${spec.value}` : ''}`
}

export function generalHelp(commands: readonly Command<any>[]): string {
  return `latch ${VERSION}: a self-hosted API key and authorization server speaking the Unkey v2 API

Usage: latch [command] [options]

Commands:
${columns(commands.map((c) => [c.name, c.summary]))}

Options:
${columns([
  ['-h, --help', "Show help; `latch <command> --help` shows a command's options"],
  ['--version', 'Print the version'],
])}

Environment:
${columns(ENVIRONMENT)}

With no command, latch runs serve.
`
}

/** Help for a command group such as `root-keys`. */
export function groupHelp(group: string, commands: readonly Command<any>[]): string {
  return `Usage: latch ${group} <${commands.map((c) => c.name.slice(group.length + 1)).join('|')}> [options]

Commands:
${columns(commands.map((c) => [c.name, c.summary]))}

Run \`latch ${group} <command> --help\` for a command's options.
`
}

export function commandHelp(command: Command<any>): string {
  const flags = Object.entries(command.flags as Record<string, FlagSpec>).map(([name, spec]): [string, string] => [
    flagLabel(name, spec),
    spec.description + note([spec.required ? 'required' : '', spec.type === 'strings' ? 'repeatable' : '']),
  ])
  const parts = [`Usage: latch ${command.usage}`, command.summary + '.']
  if (command.details) parts.push(command.details)
  if (command.positionals?.length) {
    parts.push(`Arguments:\n${columns(command.positionals.map((p) => [`<${p.name}>`, p.description]))}`)
  }
  parts.push(`Options:\n${columns([...flags, ['-h, --help', 'Show this help']])}`)
  return parts.join('\n\n') + '\n'
}
