import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { Database } from 'bun:sqlite'
import { hashKey } from '../../src/crypto'
import { CliHarness } from './harness'

let h: CliHarness
beforeEach(() => {
  h = new CliHarness()
})
afterEach(() => h.close())

const HOUR = 3_600_000
const create = (...extra: string[]) => ['root-keys', 'create', '--workspace', 'production', '--name', 'ci', ...extra]

describe('root-keys create', () => {
  test('--json prints exactly {rootKeyId, key, workspaceId}; the key authenticates in the new workspace', async () => {
    const out = await h.json(create('--permission', 'api.*.read_api', '--permission', 'api.*.create_key'))
    expect(Object.keys(out).sort()).toEqual(['key', 'rootKeyId', 'workspaceId'])
    expect(out.key).toMatch(/^unkey_[1-9A-HJ-NP-Za-km-z]{20,}$/)
    expect(out.rootKeyId).toMatch(/^rk_/)
    await h.inspect(async (rootKeys, _db, { workspaces }) => {
      expect((await workspaces.find('production'))!.id).toBe(out.workspaceId)
      const principal = await rootKeys.authenticate(out.key)
      expect(principal).toEqual({
        rootKeyId: out.rootKeyId,
        workspaceId: out.workspaceId,
        permissions: new Set(['api.*.read_api', 'api.*.create_key']),
      })
      expect(await rootKeys.find(out.rootKeyId)).toMatchObject({ name: 'ci', expiresAt: null, revokedAt: null })
    })
  })

  test('prints the key once, with the warning that it will not be shown again', async () => {
    const r = await h.run(create('--permission', '*'))
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const keys = r.stdout.match(/unkey_[1-9A-HJ-NP-Za-km-z]{20,}/g)
    expect(keys).toHaveLength(1)
    expect(r.stdout).toContain('This is the only time latch shows this key')
    expect(r.stdout).toContain('Permissions: *')
    await h.inspect(async (rootKeys) => expect(await rootKeys.authenticate(keys![0]!)).toMatchObject({ permissions: new Set(['*']) }))
  })

  test('a second key in the same workspace, named by name or by id, joins that workspace', async () => {
    const first = await h.json(create('--permission', '*'))
    const byId = await h.json(['root-keys', 'create', '--workspace', first.workspaceId, '--name', 'other', '--permission', '*'])
    const byName = await h.json(create('--permission', '*'))
    expect(byId.workspaceId).toBe(first.workspaceId)
    expect(byName.workspaceId).toBe(first.workspaceId)
    await h.inspect(async (rootKeys) => expect(await rootKeys.list(first.workspaceId)).toHaveLength(3))
  })

  test('an unknown workspace id is refused instead of becoming a workspace name', async () => {
    const r = await h.run(['root-keys', 'create', '--workspace', 'ws_doesNotExist', '--name', 'x', '--permission', '*'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("no workspace with id 'ws_doesNotExist'")
    expect(await h.snapshot()).toEqual({ workspaces: [], rootKeys: [] })
  })

  describe.each([
    ['an unknown resource type', 'apis.*.read_api', "unknown resource type 'apis'"],
    ['an unknown action', 'api.*.read_apis', "unknown action 'read_apis' for resource type 'api'"],
    ['an action of another resource type', 'identity.*.create_api', "unknown action 'create_api' for resource type 'identity'"],
    ['two parts', 'api.read_api', 'three dot-separated parts'],
    ['four parts', 'api.*.read_api.x', 'three dot-separated parts'],
    ['an empty part', 'api..read_api', "resource id ''"],
    ['rbac with a specific id', 'rbac.perm_123.create_role', "can only be granted on every resource ('rbac.*.create_role')"],
    ['create_api with a specific id', 'api.api_123.create_api', "('api.*.create_api')"],
  ])('a permission with %s', (_, permission, problem) => {
    test('exits 2 naming the problem, before the database is even created', async () => {
      const r = await h.run(create('--permission', 'api.*.read_api', '--permission', permission))
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain(`invalid permission '${permission}'`)
      expect(r.stderr).toContain(problem)
      expect(h.dbExists()).toBe(false)
    })

    test('writes nothing to an existing database', async () => {
      await h.json(['seed'])
      const before = await h.snapshot()
      const r = await h.run(create('--permission', permission, '--json'))
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(await h.snapshot()).toEqual(before)
    })
  })

  test.each([
    [['root-keys', 'create', '--workspace', 'w', '--name', 'n'], 'missing required option --permission'],
    [['root-keys', 'create', '--name', 'n', '--permission', '*'], 'missing required option --workspace'],
    [['root-keys', 'create', '--workspace', 'w', '--permission', '*'], 'missing required option --name'],
    [create('--permission', '*', '--bogus'), "unknown option '--bogus'"],
    [create('--permission'), '--permission needs a value'],
    [create('--permission', '*', '--expires-in', 'soon'), "'soon' is not a duration"],
    [create('--permission', '*', '--expires-in', '0d'), '--expires-in must be longer than zero'],
    [create('--permission', '*', 'extra'), "unexpected argument 'extra'"],
  ])('%j exits 2 with a message and no database', async (argv, message) => {
    const r = await h.run(argv)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(message)
    expect(h.dbExists()).toBe(false)
  })

  test('usage errors point at the command help', async () => {
    const r = await h.run(create('--bogus'))
    expect(r.stderr).toBe("latch: unknown option '--bogus'\nRun 'latch root-keys create --help' for usage.\n")
  })

  test('--expires-in sets the expiry; the key stops authenticating when it passes', async () => {
    const now = h.clock.now()
    const out = await h.json(create('--permission', '*', '--expires-in', '2h'))
    const [listed] = await h.json(['root-keys', 'list', '--workspace', 'production'])
    expect(listed.expiresAt).toBe(now + 2 * HOUR)
    await h.inspect(async (rootKeys) => {
      expect(await rootKeys.authenticate(out.key)).toMatchObject({ rootKeyId: out.rootKeyId })
      h.clock.advance(2 * HOUR)
      expect(await rootKeys.authenticate(out.key)).toBe('expired')
    })
  })

  test('the human output shows the expiry', async () => {
    const r = await h.run(create('--permission', '*', '--expires-in', '30d'))
    expect(r.stdout).toContain(`Expires:     ${new Date(h.clock.now() + 30 * 24 * HOUR).toISOString()}`)
  })
})

describe('root-keys list', () => {
  test('--json lists id, name, start, permissions and times in unix ms, never the secret or hash', async () => {
    const created = h.clock.now()
    const a = await h.json(create('--permission', '*'))
    h.clock.advance(1000)
    const b = await h.json(['root-keys', 'create', '--workspace', 'production', '--name', 'reader', '--permission', 'api.*.read_api', '--expires-in', '1d'])
    await h.inspect(async (rootKeys) => {
      await rootKeys.authenticate(a.key)
      await rootKeys.flushUsage()
    })
    const list = await h.json(['root-keys', 'list', '--workspace', 'production'])
    expect(list).toEqual([
      {
        id: a.rootKeyId,
        name: 'ci',
        start: a.key.slice(0, 'unkey_'.length + 4),
        permissions: ['*'],
        createdAt: created,
        expiresAt: null,
        lastUsedAt: created + 1000,
        revokedAt: null,
      },
      {
        id: b.rootKeyId,
        name: 'reader',
        start: b.key.slice(0, 'unkey_'.length + 4),
        permissions: ['api.*.read_api'],
        createdAt: created + 1000,
        expiresAt: created + 1000 + 24 * HOUR,
        lastUsedAt: null,
        revokedAt: null,
      },
    ])
    const text = JSON.stringify(list)
    for (const key of [a.key, b.key]) {
      expect(text).not.toContain(key)
      expect(text).not.toContain(hashKey(key))
    }
  })

  test('the table shows every column with ISO dates, never the secret or hash', async () => {
    const a = await h.json(create('--permission', 'api.*.read_api', '--permission', 'api.*.create_api'))
    await h.run(['root-keys', 'revoke', a.rootKeyId])
    const r = await h.run(['root-keys', 'list', '--workspace', a.workspaceId])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toBe(`Root keys of workspace production (${a.workspaceId}):`)
    expect(lines[2]!.split(/\s{2,}/)).toEqual(['ID', 'NAME', 'START', 'PERMISSIONS', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'])
    const iso = new Date(h.clock.now()).toISOString()
    expect(lines[3]!.split(/\s{2,}/)).toEqual([a.rootKeyId, 'ci', a.key.slice(0, 10), 'api.*.read_api,api.*.create_api', iso, '-', '-', iso])
    expect(r.stdout).not.toContain(a.key)
    expect(r.stdout).not.toContain(hashKey(a.key))
  })

  test('an empty workspace says so; --json gives []', async () => {
    const a = await h.json(create('--permission', '*'))
    await h.inspect((_, db) => db.query('DELETE FROM root_keys').run())
    expect((await h.run(['root-keys', 'list', '--workspace', 'production'])).stdout).toBe(`Workspace production (${a.workspaceId}) has no root keys.\n`)
    expect(await h.json(['root-keys', 'list', '--workspace', 'production'])).toEqual([])
  })

  test('only lists the keys of the workspace asked for', async () => {
    await h.json(['root-keys', 'create', '--workspace', 'staging', '--name', 'other', '--permission', '*'])
    const mine = await h.json(create('--permission', '*'))
    expect((await h.json(['root-keys', 'list', '--workspace', 'production'])).map((k: any) => k.id)).toEqual([mine.rootKeyId])
  })

  test('an unknown workspace exits 2', async () => {
    await h.json(['seed'])
    const r = await h.run(['root-keys', 'list', '--workspace', 'nowhere'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe("latch: no workspace named or with id 'nowhere'\n")
  })
})

describe('root-keys revoke', () => {
  test('revokes at once; revoking again changes nothing', async () => {
    const a = await h.json(create('--permission', '*'))
    const r = await h.run(['root-keys', 'revoke', a.rootKeyId])
    expect(r).toEqual({ code: 0, stdout: `Revoked root key ${a.rootKeyId} "ci" of workspace production (${a.workspaceId}).\n`, stderr: '' })
    await h.inspect(async (rootKeys) => {
      expect(await rootKeys.authenticate(a.key)).toBe('invalid')
      expect((await rootKeys.find(a.rootKeyId))!.revokedAt).toBe(h.clock.now())
    })
    h.clock.advance(5000)
    const again = await h.run(['root-keys', 'revoke', a.rootKeyId])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('was already revoked at')
    await h.inspect(async (rootKeys) => expect((await rootKeys.find(a.rootKeyId))!.revokedAt).toBe(h.clock.now() - 5000))
  })

  test('an unknown id or a missing id exits 2', async () => {
    await h.json(['seed'])
    const before = await h.snapshot()
    expect(await h.run(['root-keys', 'revoke', 'rk_nope'])).toEqual({ code: 2, stdout: '', stderr: "latch: no root key with id 'rk_nope'\n" })
    const missing = await h.run(['root-keys', 'revoke'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('missing <rootKeyId>')
    expect(await h.snapshot()).toEqual(before)
  })
})

describe('root-keys rotate', () => {
  test('issues a key with the same name and permissions; the old one stops at once by default', async () => {
    const old = await h.json(create('--permission', 'api.*.read_api'))
    const r = await h.json(['root-keys', 'rotate', old.rootKeyId])
    expect(Object.keys(r).sort()).toEqual(['key', 'replacedKeyStopsAt', 'replacedRootKeyId', 'rootKeyId', 'workspaceId'])
    expect(r).toMatchObject({ workspaceId: old.workspaceId, replacedRootKeyId: old.rootKeyId, replacedKeyStopsAt: h.clock.now() })
    expect(r.rootKeyId).not.toBe(old.rootKeyId)
    await h.inspect(async (rootKeys) => {
      expect(await rootKeys.authenticate(old.key)).toBe('invalid')
      expect(await rootKeys.authenticate(r.key)).toEqual({ rootKeyId: r.rootKeyId, workspaceId: old.workspaceId, permissions: new Set(['api.*.read_api']) })
      expect((await rootKeys.find(r.rootKeyId))!.name).toBe('ci')
    })
  })

  test('--grace keeps the old key working until the grace period ends', async () => {
    const old = await h.json(create('--permission', '*'))
    const r = await h.run(['root-keys', 'rotate', old.rootKeyId, '--grace', '1h'])
    expect(r.code).toBe(0)
    const stopsAt = h.clock.now() + HOUR
    expect(r.stdout).toContain(`The old key ${old.rootKeyId} keeps working until ${new Date(stopsAt).toISOString()}.`)
    const key = r.stdout.match(/unkey_[1-9A-HJ-NP-Za-km-z]{20,}/g)
    expect(key).toHaveLength(1)
    await h.inspect(async (rootKeys) => {
      expect(await rootKeys.find(old.rootKeyId)).toMatchObject({ expiresAt: stopsAt, revokedAt: null })
      h.clock.advance(HOUR - 1)
      expect(await rootKeys.authenticate(old.key)).toMatchObject({ rootKeyId: old.rootKeyId })
      h.clock.advance(1)
      expect(await rootKeys.authenticate(old.key)).toBe('expired')
      expect(await rootKeys.authenticate(key![0]!)).toMatchObject({ workspaceId: old.workspaceId })
    })
  })

  test('a revoked or unknown key cannot be rotated (exit 2, nothing written)', async () => {
    const old = await h.json(create('--permission', '*'))
    await h.run(['root-keys', 'revoke', old.rootKeyId])
    const before = await h.snapshot()
    const revoked = await h.run(['root-keys', 'rotate', old.rootKeyId])
    expect(revoked).toEqual({ code: 2, stdout: '', stderr: `latch: root key '${old.rootKeyId}' is already revoked or expired\n` })
    const unknown = await h.run(['root-keys', 'rotate', 'rk_nope', '--json'])
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: "latch: no root key with id 'rk_nope'\n" })
    const badGrace = await h.run(['root-keys', 'rotate', old.rootKeyId, '--grace', 'later'])
    expect(badGrace.code).toBe(2)
    expect(await h.snapshot()).toEqual(before)
  })
})

describe('choosing the database', () => {
  test('default ./data/latch.db under the working directory; LATCH_DATA_DIR, LATCH_DB and --db override it in that order', async () => {
    await h.json(create('--permission', '*'))
    expect(h.dbExists()).toBe(true)
    await h.run(create('--permission', '*'), { LATCH_DATA_DIR: 'elsewhere' })
    expect(existsSync(join(h.dir, 'elsewhere', 'latch.db'))).toBe(true)
    await h.run(create('--permission', '*'), { LATCH_DB: 'env.db', LATCH_DATA_DIR: 'elsewhere' })
    expect(existsSync(join(h.dir, 'env.db'))).toBe(true)
    const flagged = await h.run(create('--permission', '*', '--db', join(h.dir, 'flag.db'), '--json'), { LATCH_DB: 'env.db' })
    expect(flagged.code).toBe(0)
    const list = (path: string) => h.run(['root-keys', 'list', '--workspace', 'production', '--json', '--db', path])
    expect(JSON.parse((await list(join(h.dir, 'flag.db'))).stdout)).toHaveLength(1)
    expect(JSON.parse((await list('env.db')).stdout)).toHaveLength(1)
    expect(JSON.parse((await list('data/latch.db')).stdout)).toHaveLength(1)
  })

  test('a database from a newer latch is refused with exit 1 and left untouched', async () => {
    await h.json(['seed'])
    await h.inspect((_, db) => db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run())
    // openDatabase refuses this file too, so read it raw.
    const rows = () => {
      const raw = new Database(h.dbPath, { readonly: true })
      try {
        return raw.query('SELECT (SELECT COUNT(*) FROM workspaces) AS w, (SELECT COUNT(*) FROM root_keys) AS k').get()
      } finally {
        raw.close()
      }
    }
    const before = rows()
    for (const argv of [['seed'], create('--permission', '*'), ['root-keys', 'list', '--workspace', 'production']]) {
      const r = await h.run(argv)
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(/^latch: The database is at schema version 999, but this latch only knows versions up to \d+\. Upgrade latch/)
    }
    expect(rows()).toEqual(before)
  })
})
