import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { SEED_KEY_NAME, SEED_WORKSPACES, seedWorkspaces } from '../../src/modules/rootkeys/seed'
import { CliHarness } from './harness'

let h: CliHarness
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

const KEY = /unkey_[1-9A-HJ-NP-Za-km-z]{20,}/g

describe('latch seed', () => {
  test('the first run creates three workspaces with one * key each and prints each key exactly once', async () => {
    const r = await h.run(['seed'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const keys = r.stdout.match(KEY)!
    expect(keys).toHaveLength(3)
    expect(new Set(keys).size).toBe(3)
    expect(r.stdout).toContain('This is the only time latch shows these keys')
    await h.inspect(async (rootKeys, _db, { workspaces }) => {
      for (const [i, name] of SEED_WORKSPACES.entries()) {
        const ws = (await workspaces.find(name))!
        expect(r.stdout).toContain(`  ${name.padEnd(12)} ${keys[i]}`)
        expect(await rootKeys.authenticate(keys[i]!)).toMatchObject({ workspaceId: ws.id, permissions: new Set(['*']) })
        expect(await rootKeys.listSeeded(ws.id)).toEqual([expect.objectContaining({ name: SEED_KEY_NAME, permissions: ['*'] })])
      }
    })
  })

  test('--json prints one object {development, staging, production} of {workspaceId, rootKeyId, key}', async () => {
    const out = await h.json(['seed'])
    expect(Object.keys(out)).toEqual(['development', 'staging', 'production'])
    for (const name of SEED_WORKSPACES) {
      expect(Object.keys(out[name])).toEqual(['workspaceId', 'rootKeyId', 'key'])
      expect(out[name]).toEqual({ workspaceId: expect.stringMatching(/^ws_/), rootKeyId: expect.stringMatching(/^rk_/), key: expect.stringMatching(/^unkey_/) })
    }
  })

  test('the workspaces are isolated: each key carries its own workspace id only', async () => {
    const out = await h.json(['seed'])
    const ids = SEED_WORKSPACES.map((name) => out[name].workspaceId)
    expect(new Set(ids).size).toBe(3)
    await h.inspect(async (rootKeys) => {
      for (const name of SEED_WORKSPACES) {
        expect(await rootKeys.authenticate(out[name].key)).toMatchObject({ workspaceId: out[name].workspaceId, rootKeyId: out[name].rootKeyId })
        expect((await rootKeys.list(out[name].workspaceId)).map((k) => k.id)).toEqual([out[name].rootKeyId])
      }
    })
  })

  test('a second run changes nothing and prints no secret', async () => {
    const first = await h.json(['seed'])
    const before = await h.snapshot()
    h.clock.advance(60_000)
    const again = await h.run(['seed'])
    expect(again.code).toBe(0)
    expect(again.stdout).not.toMatch(KEY)
    expect(again.stdout).toStartWith('The seed keys already exist; nothing changed.')
    for (const name of SEED_WORKSPACES) expect(again.stdout).toContain(first[name].rootKeyId)
    const json = await h.json(['seed'])
    expect(json).toEqual(Object.fromEntries(SEED_WORKSPACES.map((name) => [name, { workspaceId: first[name].workspaceId, rootKeyId: first[name].rootKeyId }])))
    expect(await h.snapshot()).toEqual(before)
  })

  test('--rotate issues new keys that authenticate and revokes the previous seed keys', async () => {
    const first = await h.json(['seed'])
    h.clock.advance(1000)
    const rotated = await h.json(['seed', '--rotate'])
    await h.inspect(async (rootKeys) => {
      for (const name of SEED_WORKSPACES) {
        expect(rotated[name].workspaceId).toBe(first[name].workspaceId)
        expect(rotated[name].rootKeyId).not.toBe(first[name].rootKeyId)
        expect(await rootKeys.authenticate(first[name].key)).toBe('invalid')
        expect((await rootKeys.find(first[name].rootKeyId))!.revokedAt).toBe(h.clock.now())
        expect(await rootKeys.authenticate(rotated[name].key)).toEqual({
          rootKeyId: rotated[name].rootKeyId,
          workspaceId: first[name].workspaceId,
          permissions: new Set(['*']),
        })
        expect((await rootKeys.listSeeded(first[name].workspaceId)).map((k) => k.id)).toEqual([rotated[name].rootKeyId])
      }
    })
    // The rotated keys are now the seed keys: a plain run leaves them alone.
    expect(await h.json(['seed'])).toEqual(
      Object.fromEntries(SEED_WORKSPACES.map((name) => [name, { workspaceId: rotated[name].workspaceId, rootKeyId: rotated[name].rootKeyId }])),
    )
  })

  test('--rotate in human format says what happened and prints the new keys once', async () => {
    await h.run(['seed'])
    const r = await h.run(['seed', '--rotate'])
    expect(r.code).toBe(0)
    expect(r.stdout.match(KEY)).toHaveLength(3)
    expect(r.stdout.match(/rotated \(previous key revoked\)/g)).toHaveLength(3)
  })

  test('only a missing seed key is issued again; the others stay and print no secret', async () => {
    const first = await h.json(['seed'])
    expect((await h.run(['root-keys', 'revoke', first.staging.rootKeyId])).code).toBe(0)
    const again = await h.json(['seed'])
    expect(again.development).toEqual({ workspaceId: first.development.workspaceId, rootKeyId: first.development.rootKeyId })
    expect(again.production).toEqual({ workspaceId: first.production.workspaceId, rootKeyId: first.production.rootKeyId })
    expect(again.staging).toEqual({ workspaceId: first.staging.workspaceId, rootKeyId: expect.stringMatching(/^rk_/), key: expect.stringMatching(/^unkey_/) })
    await h.inspect(async (rootKeys) => expect(await rootKeys.authenticate(again.staging.key)).toMatchObject({ workspaceId: first.staging.workspaceId }))
  })

  test('root keys created by hand in a seed workspace are not seed keys', async () => {
    await h.json(['root-keys', 'create', '--workspace', 'staging', '--name', 'mine', '--permission', '*'])
    const out = await h.json(['seed'])
    expect(out.staging.key).toMatch(/^unkey_/)
    await h.inspect(async (rootKeys) => expect(await rootKeys.list(out.staging.workspaceId)).toHaveLength(2))
  })

  test('runs in one transaction: a failure part-way leaves nothing behind', async () => {
    await h.json(['root-keys', 'create', '--workspace', 'other', '--name', 'x', '--permission', '*'])
    const before = await h.snapshot()
    await h.inspect(async (_, db, services) => {
      // Make the last workspace's insert fail after the first two succeeded.
      db.exec("CREATE TRIGGER fail_production BEFORE INSERT ON workspaces WHEN NEW.name = 'production' BEGIN SELECT RAISE(ABORT, 'boom'); END")
      await expect(seedWorkspaces(services, h.clock)).rejects.toThrow('boom')
      db.exec('DROP TRIGGER fail_production')
    })
    expect(await h.snapshot()).toEqual(before)
  })

  test('ignores PORT, which only serve reads', async () => {
    expect((await h.run(['seed', '--json'], { PORT: 'not-a-port' })).code).toBe(0)
  })

  test('unknown flags exit 2 without creating the database', async () => {
    const r = await h.run(['seed', '--force'])
    expect(r).toEqual({ code: 2, stdout: '', stderr: "latch: unknown option '--force'\nRun 'latch seed --help' for usage.\n" })
    expect(h.dbExists()).toBe(false)
  })
})
