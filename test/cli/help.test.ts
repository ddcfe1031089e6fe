import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { VERSION } from '../../src/version'
import { COMMANDS } from '../../src/cli/run'
import pkg from '../../package.json' with { type: 'json' }
import { CliHarness } from './harness'

let h: CliHarness
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

describe('help and version', () => {
  test.each([['--help'], ['-h'], ['help']])('latch %s lists every command and the environment', async (flag) => {
    const r = await h.run([flag])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toStartWith(`latch ${VERSION}: a self-hosted API key and authorization server`)
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`)
    for (const env of ['PORT', 'HOST', 'LATCH_DB', 'LATCH_DATA_DIR', 'LATCH_MASTER_KEY', 'LATCH_LOG']) expect(r.stdout).toContain(env)
  })

  test.each(COMMANDS.map((c) => [c.name]))('latch %s --help shows its usage and every flag, touching no database', async (name) => {
    const command = COMMANDS.find((c) => c.name === name)!
    for (const argv of [
      [...name.split(' '), '--help'],
      [...name.split(' '), '--bogus', '-h'],
      ['help', ...name.split(' ')],
    ]) {
      const r = await h.run(argv)
      expect(r.code).toBe(0)
      expect(r.stdout).toStartWith(`Usage: latch ${command.usage}\n`)
      for (const flag of Object.keys(command.flags)) expect(r.stdout).toContain(`--${flag}`)
    }
    expect(h.dbExists()).toBe(false)
  })

  test('latch root-keys --help lists its commands', async () => {
    const r = await h.run(['root-keys', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toStartWith('Usage: latch root-keys <create|list|revoke|rotate> [options]')
    for (const sub of ['create', 'list', 'revoke', 'rotate']) expect(r.stdout).toContain(`root-keys ${sub}`)
  })

  test('--version prints the package version', async () => {
    expect(VERSION).toBe(pkg.version)
    expect(await h.run(['--version'])).toEqual({ code: 0, stdout: `latch ${pkg.version}\n`, stderr: '' })
  })

  test.each([
    [['frobnicate'], "latch: unknown command 'frobnicate'\nRun 'latch --help' for usage.\n"],
    [['root-keys'], "latch: 'root-keys' needs a command: create, list, revoke, rotate\nRun 'latch root-keys --help' for usage.\n"],
    [['root-keys', 'delete', 'rk_1'], "latch: unknown root-keys command 'delete'\nRun 'latch root-keys --help' for usage.\n"],
    [['serve', '--port'], "latch: --port needs a value <port>\nRun 'latch serve --help' for usage.\n"],
    [['--verbose'], "latch: unknown option '--verbose'\nRun 'latch serve --help' for usage.\n"],
  ])('%j exits 2 with a message on stderr', async (argv, stderr) => {
    expect(await h.run(argv)).toEqual({ code: 2, stdout: '', stderr })
    expect(h.dbExists()).toBe(false)
  })
})
