// Changes made with the CLI are audited as the operating-system user who ran
// it, and `latch audit list` shows a workspace's log: as a table, or as JSON
// in audit.listLogs' shape, filtered by event and age.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { userInfo } from 'node:os'
import { CliHarness } from './harness'

let h: CliHarness
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

const OPERATOR = { type: 'cli', id: userInfo().username }
const list = (...extra: string[]) => h.json(['audit', 'list', '--workspace', 'production', ...extra])

describe('CLI changes are audited as the operator', () => {
  test('root-keys create, rotate and revoke each write one event naming the CLI user', async () => {
    const created = await h.json(['root-keys', 'create', '--workspace', 'production', '--name', 'ci', '--permission', 'api.*.read_api'])
    const rotated = await h.json(['root-keys', 'rotate', created.rootKeyId, '--grace', '1h'])
    expect((await h.run(['root-keys', 'revoke', rotated.rootKeyId])).code).toBe(0)
    const events = await list()
    expect(events.map((e: any) => [e.event, e.actor, e.resources.map((r: any) => r.id)])).toEqual([
      ['root_key.revoke', OPERATOR, [rotated.rootKeyId]],
      ['root_key.rotate', OPERATOR, [created.rootKeyId, rotated.rootKeyId]],
      ['root_key.create', OPERATOR, [created.rootKeyId]],
      ['workspace.create', OPERATOR, [created.workspaceId]],
    ])
    expect(events[2]).toEqual({
      id: expect.stringMatching(/^audit_/),
      time: h.clock.now(),
      workspaceId: created.workspaceId,
      event: 'root_key.create',
      actor: OPERATOR,
      resources: [{ type: 'root_key', id: created.rootKeyId, name: 'ci' }],
      description: 'Created root key ci with permissions api.*.read_api',
      context: {},
    })
    for (const key of [created.key, rotated.key]) expect(JSON.stringify(events)).not.toContain(key)
  })

  test('a refused command writes no event', async () => {
    await h.json(['root-keys', 'create', '--workspace', 'production', '--name', 'ci', '--permission', '*'])
    expect((await h.run(['root-keys', 'rotate', 'rk_doesNotExist'])).code).toBe(2)
    expect((await list()).map((e: any) => e.event)).toEqual(['root_key.create', 'workspace.create'])
  })
})

describe('latch audit list', () => {
  beforeEach(async () => {
    await h.json(['root-keys', 'create', '--workspace', 'production', '--name', 'ci', '--permission', '*'])
    h.clock.advance(2 * 3_600_000)
    await h.json(['migrations', 'create', '--workspace', 'production', '--algorithm', 'sha256_hex'])
  })

  test('prints a table, newest first', async () => {
    const r = await h.run(['audit', 'list', '--workspace', 'production'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^TIME\s+EVENT\s+ACTOR\s+DESCRIPTION$/)
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['2026-06-15T14:00:00.000Z', 'migration.create', `cli ${OPERATOR.id}`],
      ['2026-06-15T12:00:00.000Z', 'root_key.create', `cli ${OPERATOR.id}`],
      ['2026-06-15T12:00:00.000Z', 'workspace.create', `cli ${OPERATOR.id}`],
    ])
    expect(lines[1]).toMatch(/Created key migration mig_\w+ \(sha256_hex\)$/)
  })

  test('--event (repeatable), --since and --limit narrow the list', async () => {
    expect((await list('--event', 'workspace.create')).map((e: any) => e.event)).toEqual(['workspace.create'])
    expect((await list('--event', 'workspace.create', '--event', 'migration.create')).map((e: any) => e.event)).toEqual([
      'migration.create',
      'workspace.create',
    ])
    expect((await list('--since', '1h')).map((e: any) => e.event)).toEqual(['migration.create'])
    expect((await list('--since', '3h', '--limit', '2')).map((e: any) => e.event)).toEqual(['migration.create', 'root_key.create'])
  })

  test('says so when nothing matches', async () => {
    const r = await h.run(['audit', 'list', '--workspace', 'production', '--event', 'key.create'])
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toMatch(/^No audit events in workspace production \(ws_\w+\) match\.\n$/)
  })

  test.each([
    [['--event', 'key.explode'], "unknown audit event 'key.explode'; events are workspace.create, root_key.create"],
    [['--since', 'yesterday'], "'yesterday' is not a duration"],
    [['--limit', '0'], '--limit must be a whole number from 1 to 10000'],
  ])('exits 2 for %j', async (extra, message) => {
    const r = await h.run(['audit', 'list', '--workspace', 'production', ...extra])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(message)
  })

  test('an unknown workspace exits 2 and creates nothing', async () => {
    const before = await h.snapshot()
    const r = await h.run(['audit', 'list', '--workspace', 'staging'])
    expect(r).toEqual({ code: 2, stdout: '', stderr: "latch: no workspace named or with id 'staging'\n" })
    expect(await h.snapshot()).toEqual(before)
  })

  test('latch audit --help lists its command', async () => {
    const r = await h.run(['audit', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toStartWith('Usage: latch audit <list> [options]')
  })
})
