import { describe, expect, test } from 'bun:test'
import { UsageError, parseArgs, wantsHelp, type FlagSpecs } from '../../src/cli/args'

const specs = {
  name: { type: 'string', description: 'a name', required: true },
  grace: { type: 'string', value: '<duration>', description: 'a duration' },
  permission: { type: 'strings', description: 'repeatable' },
  json: { type: 'boolean', description: 'json' },
} satisfies FlagSpecs

const usageError = (argv: string[], positionals: string[] = []) => {
  try {
    parseArgs(argv, specs, { positionals, command: 'thing' })
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).command).toBe('thing')
    return (error as Error).message
  }
  throw new Error(`parsed without error: ${argv.join(' ')}`)
}

describe('parseArgs', () => {
  test('reads --flag value, --flag=value, repeated flags and booleans', () => {
    const { flags, positionals } = parseArgs(['--name', 'ci deploy', '--permission=api.*.read_api', '--json', '--permission', '*', '--grace=1h'], specs)
    expect(flags).toEqual({ name: 'ci deploy', permission: ['api.*.read_api', '*'], json: true, grace: '1h' })
    expect(positionals).toEqual([])
  })

  test('keeps everything after the first = as the value', () => {
    expect(parseArgs(['--name=a=b', '--grace=--x'], specs).flags).toEqual({ name: 'a=b', grace: '--x' })
  })

  test('collects positionals in order, and treats everything after -- as positional', () => {
    const { flags, positionals } = parseArgs(['rk_1', '--name', 'n', '--', '--json'], specs, { positionals: ['id', 'other'] })
    expect(flags).toEqual({ name: 'n' })
    expect(positionals).toEqual(['rk_1', '--json'])
  })

  test('absent optional flags are undefined', () => {
    const { flags } = parseArgs(['--name', 'n'], specs)
    expect(flags.json).toBeUndefined()
    expect(flags.permission).toBeUndefined()
    expect(flags.grace).toBeUndefined()
  })

  test.each([
    [['--name', 'n', '--nope'], "unknown option '--nope'"],
    [['--name', 'n', '--nope=1'], "unknown option '--nope'"],
    [['--name', 'n', '-x'], "unknown option '-x'"],
    [['--name'], '--name needs a value'],
    [['--name', 'n', '--grace'], '--grace needs a value <duration>'],
    [['--name', '--json'], '--name needs a value'],
    [['--name='], '--name needs a non-empty value'],
    [['--name', 'a', '--name', 'b'], '--name was given more than once'],
    [['--name', 'n', '--json', '--json'], '--json was given more than once'],
    [['--name', 'n', '--json=true'], '--json does not take a value'],
    [['--json'], 'missing required option --name'],
    [['--name', 'n', 'extra'], "unexpected argument 'extra'"],
    [['--toString', 'x'], "unknown option '--toString'"],
  ])('%j is refused: %s', (argv, message) => {
    expect(usageError(argv)).toBe(message)
  })

  test('missing and surplus positionals are refused', () => {
    expect(usageError(['--name', 'n'], ['rootKeyId'])).toBe('missing <rootKeyId>')
    expect(usageError(['a', 'b', '--name', 'n'], ['rootKeyId'])).toBe("unexpected argument 'b'")
  })
})

describe('wantsHelp', () => {
  test('finds -h or --help anywhere before --', () => {
    expect(wantsHelp(['--name', 'x', '--help'])).toBe(true)
    expect(wantsHelp(['-h'])).toBe(true)
    expect(wantsHelp(['--name', 'x'])).toBe(false)
    expect(wantsHelp(['--', '--help'])).toBe(false)
  })
})
