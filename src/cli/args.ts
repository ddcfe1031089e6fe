// Command-line parsing for the latch executable, by hand and without a
// dependency: `--name value`, `--name=value`, repeatable flags, booleans, and
// positionals. Anything unexpected is a UsageError (exit code 2).

/** Bad command-line input: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help explains the fix, e.g. `root-keys create`. */
    readonly command?: string,
  ) {
    super(message)
  }
}

export interface FlagSpec {
  /** `string`: one value; `strings`: repeatable; `boolean`: present or absent. */
  type: 'string' | 'strings' | 'boolean'
  /** Placeholder shown in help, e.g. `<duration>`. */
  value?: string
  description: string
  required?: boolean
}

export type FlagSpecs = Record<string, FlagSpec>

export type ParsedFlags<S extends FlagSpecs> = {
  [K in keyof S]?: S[K]['type'] extends 'boolean' ? true : S[K]['type'] extends 'strings' ? string[] : string
}

export interface ParsedArgs<S extends FlagSpecs> {
  flags: ParsedFlags<S>
  positionals: string[]
}

/** True when `-h`/`--help` appears before a `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}

/**
 * Parses `argv` against `specs`. `positionals` names the positional arguments
 * the command takes, in order; all of them are required.
 */
export function parseArgs<S extends FlagSpecs>(
  argv: readonly string[],
  specs: S,
  options: { positionals?: readonly string[]; command?: string } = {},
): ParsedArgs<S> {
  const expected = options.positionals ?? []
  const fail = (message: string): never => {
    throw new UsageError(message, options.command)
  }
  const flags: Record<string, string | string[] | true> = {}
  const positionals: string[] = []
  let onlyPositionals = false

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (onlyPositionals || !arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    if (arg === '--') {
      onlyPositionals = true
      continue
    }
    if (!arg.startsWith('--')) fail(`unknown option '${arg}'`)
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined
    if (!spec) fail(`unknown option '--${name}'`)
    if (spec!.type === 'boolean') {
      if (eq !== -1) fail(`--${name} does not take a value`)
      if (flags[name]) fail(`--${name} was given more than once`)
      flags[name] = true
      continue
    }
    let value: string
    if (eq !== -1) {
      value = arg.slice(eq + 1)
    } else {
      const next = argv[i + 1]
      // A following option means the value was forgotten; `--name=--x` still works.
      if (next === undefined || next.startsWith('--')) fail(`--${name} needs a value${spec!.value ? ` ${spec!.value}` : ''}`)
      value = next!
      i++
    }
    if (value === '') fail(`--${name} needs a non-empty value`)
    if (spec!.type === 'strings') {
      const values = (flags[name] ?? []) as string[]
      values.push(value)
      flags[name] = values
    } else {
      if (flags[name] !== undefined) fail(`--${name} was given more than once`)
      flags[name] = value
    }
  }

  if (positionals.length > expected.length) {
    fail(expected.length === 0 ? `unexpected argument '${positionals[0]}'` : `unexpected argument '${positionals[expected.length]}'`)
  }
  if (positionals.length < expected.length) fail(`missing <${expected[positionals.length]}>`)
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && flags[name] === undefined) fail(`missing required option --${name}${spec.value ? ` ${spec.value}` : ''}`)
  }
  return { flags: flags as ParsedFlags<S>, positionals }
}
