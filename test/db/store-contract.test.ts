// The store contract: the same assertions against every engine (SQLite
// always; PostgreSQL when LATCH_TEST_DATABASE_URL names a server, as in CI).
// What services rely on and an engine could get subtly wrong: byte order of
// ids and cursors, numbers that come back as numbers, booleans, JSON text kept
// as written, atomic batches, transactions that roll back and that nested
// calls join, compare-and-set, and the exact semantics of each lookup.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Stores } from '../../src/db/stores'
import type { NewKeyRecord } from '../../src/db/stores/keys'
import { verificationEvent } from '../support/events'
import { testStores } from '../support/harness'

const ENGINES = ['sqlite', ...(process.env.LATCH_TEST_DATABASE_URL ? ['postgres' as const] : [])] as const
const T0 = Date.UTC(2026, 5, 15, 12)

const key = (id: string, over: Partial<NewKeyRecord> = {}): NewKeyRecord => ({
  id,
  workspaceId: 'ws_1',
  apiId: 'api_1',
  hash: `hash_${id}`,
  start: 'sk_abc',
  name: null,
  meta: null,
  identityId: null,
  enabled: true,
  expiresAt: null,
  remaining: null,
  refillAmount: null,
  refillDay: null,
  lastRefillAt: null,
  encrypted: null,
  createdAt: T0,
  ...over,
})

describe.each(ENGINES)('%s stores', (engine) => {
  let s: Stores
  let close: () => Promise<void>
  let dir: string

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latch-contract-'))
    const opened = testStores(dir, engine)
    s = opened.stores
    close = opened.close
    for (const id of ['ws_1', 'ws_2']) await s.workspaces.insert({ id, name: `name of ${id}`, createdAt: T0 })
    await s.apis.insert({ id: 'api_1', workspaceId: 'ws_1', name: 'main', deleteProtection: false, createdAt: T0 })
  })

  afterEach(async () => {
    await close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('workspaces: by id, else by name; numbers are numbers', async () => {
    expect(await s.workspaces.findByIdOrName('ws_1')).toEqual({ id: 'ws_1', name: 'name of ws_1', createdAt: T0 })
    expect(await s.workspaces.findByIdOrName('name of ws_2')).toEqual({ id: 'ws_2', name: 'name of ws_2', createdAt: T0 })
    expect(await s.workspaces.findByIdOrName('nope')).toBeNull()
  })

  test('ids order and paginate by bytes (uppercase before underscore before lowercase)', async () => {
    const ids = ['key_a', 'key_B', 'key__', 'key_Z', 'key_0']
    for (const id of ids) await s.keys.insert(key(id))
    const page = async (cursor: string, limit: number) => (await s.keys.listLive('ws_1', 'api_1', { cursor, limit })).map((k) => k.id)
    expect(await page('', 10)).toEqual(['key_0', 'key_B', 'key_Z', 'key__', 'key_a'])
    expect(await page('key_Z', 2)).toEqual(['key_Z', 'key__'])
    expect(await page('key_b', 10)).toEqual([])
  })

  test('keys: records round-trip with numbers, booleans and JSON text exactly as written', async () => {
    const meta = '{"b":1,"a":[true,null],"u":"é"}'
    await s.keys.insert(key('key_1', { meta, enabled: false, remaining: 2 ** 40, refillAmount: 5, refillDay: 31, expiresAt: T0 + 1, encrypted: 'sealed' }))
    const found = await s.keys.findLive('ws_1', 'key_1')
    expect(found).toEqual({
      ...key('key_1', { meta, enabled: false, remaining: 2 ** 40, refillAmount: 5, refillDay: 31, expiresAt: T0 + 1, encrypted: 'sealed' }),
      updatedAt: null,
      lastUsedAt: null,
    })
    expect(await s.keys.findLive('ws_2', 'key_1')).toBeNull()
    expect(await s.keys.findLiveByHash('ws_1', 'hash_key_1')).toMatchObject({ id: 'key_1' })
    await s.keys.update('key_1', { name: 'renamed', enabled: true, remaining: null, updatedAt: T0 + 2 })
    expect(await s.keys.findLive('ws_1', 'key_1')).toMatchObject({ name: 'renamed', enabled: true, remaining: null, updatedAt: T0 + 2, meta })
    await s.keys.softDelete('key_1', T0 + 3)
    expect(await s.keys.findLive('ws_1', 'key_1')).toBeNull()
    expect(await s.keys.findHashHolder('ws_1', 'hash_key_1')).toEqual({ id: 'key_1', deleted: true, apiId: 'api_1' })
    await s.keys.retireHash('key_1')
    expect(await s.keys.findHashHolder('ws_1', 'hash_key_1')).toBeNull()
  })

  test('keys: credits in batches, refills due, last-used never moves back, changeCredits', async () => {
    await s.keys.insert(key('key_d', { remaining: 1, refillAmount: 10 }))
    await s.keys.insert(key('key_m', { remaining: 0, refillAmount: 20, refillDay: 15 }))
    await s.keys.setCredits([
      { keyId: 'key_d', remaining: 0, lastRefillAt: T0 - 5 },
      { keyId: 'key_m', remaining: 3, lastRefillAt: null },
    ])
    expect(await s.keys.dueForRefill(null, T0)).toEqual([{ id: 'key_d', remaining: 0, refillAmount: 10 }])
    expect(await s.keys.dueForRefill(15, T0 + 1)).toEqual([{ id: 'key_m', remaining: 3, refillAmount: 20 }])
    expect(await s.keys.dueForRefill(15, T0)).toEqual([])
    await s.keys.touchLastUsed([['key_d', T0 + 10]])
    await s.keys.touchLastUsed([['key_d', T0 + 5]])
    expect((await s.keys.findLive('ws_1', 'key_d'))!.lastUsedAt).toBe(T0 + 10)
    expect((await s.keys.listLive('ws_1', 'api_1', { cursor: '', limit: 10 })).map((k) => [k.id, k.lastUsedAt])).toEqual([
      ['key_d', T0 + 10],
      ['key_m', null],
    ])
    // A key deleted for good takes its last-used time with it; a use of it recorded later is skipped,
    // and the rest of the batch is written.
    await s.keys.touchLastUsed([['key_m', T0 + 1]])
    await s.keys.hardDelete('key_m')
    await s.keys.touchLastUsed([
      ['key_m', T0 + 12],
      ['key_d', T0 + 11],
    ])
    expect((await s.keys.findLive('ws_1', 'key_d'))!.lastUsedAt).toBe(T0 + 11)
    await s.keys.insert(key('key_m'))
    expect((await s.keys.findLive('ws_1', 'key_m'))!.lastUsedAt).toBeNull()
    const result = await s.keys.changeCredits('key_d', (state) => {
      expect(state).toEqual({ remaining: 0, refillAmount: 10, refillDay: null, lastRefillAt: T0 - 5, createdAt: T0 })
      return { balance: { remaining: 10, lastRefillAt: T0 }, result: 'refilled' }
    })
    expect(result).toBe('refilled')
    expect(await s.keys.findLive('ws_1', 'key_d')).toMatchObject({ remaining: 10, lastRefillAt: T0 })
    expect(await s.keys.changeCredits('nope', (state) => ({ balance: null, result: state }))).toBeNull()
  })

  test('key migrations count the keys still pending', async () => {
    await s.keys.insertMigration({ id: 'mig_1', workspaceId: 'ws_1', algorithm: 'sha256', createdAt: T0 })
    await s.keys.insert(key('key_1', { hash: 'legacy' }))
    await s.keys.markPendingMigration('key_1', 'mig_1')
    expect(await s.keys.listMigrations('ws_1')).toEqual([{ id: 'mig_1', workspaceId: 'ws_1', algorithm: 'sha256', createdAt: T0, pendingKeys: 1 }])
    expect(await s.keys.findPendingMigration('ws_1', 'mig_1', 'legacy')).toEqual({ id: 'key_1' })
    await s.keys.completeMigration('key_1', 'new_hash', 'sk_new')
    expect(await s.keys.listMigrations('ws_1')).toMatchObject([{ pendingKeys: 0 }])
    expect(await s.keys.findMigration('ws_2', 'mig_1')).toBeNull()
  })

  test('transactions roll back as a whole, and nested ones join the outer', async () => {
    const failing = s.transaction(async () => {
      await s.apis.insert({ id: 'api_2', workspaceId: 'ws_1', name: 'two', deleteProtection: false, createdAt: T0 })
      await s.transaction(async () => s.apis.insert({ id: 'api_3', workspaceId: 'ws_1', name: 'three', deleteProtection: false, createdAt: T0 }))
      throw new Error('boom')
    })
    await expect(failing).rejects.toThrow('boom')
    expect(await s.apis.isLive('api_2')).toBe(false)
    expect(await s.apis.isLive('api_3')).toBe(false)
    await s.transaction(async () => {
      await s.apis.insert({ id: 'api_2', workspaceId: 'ws_1', name: 'two', deleteProtection: false, createdAt: T0 })
      await s.apis.setDeleteProtection('ws_1', 'api_2', true)
      expect(await s.apis.findLive('ws_1', 'api_2')).toEqual({ id: 'api_2', workspaceId: 'ws_1', name: 'two', deleteProtection: true, createdAt: T0 })
    })
    expect(await s.apis.isLive('api_2')).toBe(true)
  })

  test('concurrent check-then-insert transactions: the second sees the first', async () => {
    const claim = (id: string) =>
      s.transaction(async () => {
        if (await s.rbac.findPermissionBySlug('ws_1', 'docs.read')) return 'taken'
        await s.rbac.insertPermission('ws_1', { id, name: 'read', slug: 'docs.read' }, T0)
        return 'inserted'
      })
    const results = await Promise.all([claim('perm_1'), claim('perm_2'), claim('perm_3')])
    expect(results.sort()).toEqual(['inserted', 'taken', 'taken'])
  })

  test('settings compare-and-set', async () => {
    expect(await s.settings.get('fp')).toBeNull()
    expect(await s.settings.replace('fp', null, 'a')).toBe('a')
    expect(await s.settings.replace('fp', null, 'b')).toBe('a')
    expect(await s.settings.replace('fp', 'a', 'c')).toBe('c')
    expect(await s.settings.get('fp')).toBe('c')
  })

  test('root keys: permissions JSON, revoke once, expiry only earlier, use times never back, listing order', async () => {
    const root = (id: string, createdAt: number) => ({
      id,
      workspaceId: 'ws_1',
      name: id,
      hash: `h_${id}`,
      start: 'unkey_x',
      permissions: ['api.*.read_api', '*'],
      createdAt,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      seeded: id === 'rk_b',
    })
    await s.rootKeys.insert(root('rk_b', T0))
    await s.rootKeys.insert(root('rk_a', T0))
    await s.rootKeys.insert(root('rk_0', T0 + 1))
    expect((await s.rootKeys.listByWorkspace('ws_1')).map((k) => k.id)).toEqual(['rk_a', 'rk_b', 'rk_0'])
    expect(await s.rootKeys.findByHash('h_rk_b')).toEqual(root('rk_b', T0))
    expect((await s.rootKeys.listHashes(10)).sort()).toEqual(['h_rk_0', 'h_rk_a', 'h_rk_b'])
    expect(await s.rootKeys.listHashes(2)).toHaveLength(2)
    expect((await s.rootKeys.listSeeded('ws_1')).map((k) => k.id)).toEqual(['rk_b'])
    expect(await s.rootKeys.revoke('rk_a', T0 + 5)).toBe(true)
    expect(await s.rootKeys.revoke('rk_a', T0 + 6)).toBe(false)
    await s.rootKeys.expireBy('rk_b', T0 + 100)
    await s.rootKeys.expireBy('rk_b', T0 + 200)
    await s.rootKeys.recordUse([['rk_b', T0 + 9]])
    await s.rootKeys.recordUse([['rk_b', T0 + 8]])
    expect(await s.rootKeys.findById('rk_b')).toMatchObject({ expiresAt: T0 + 100, lastUsedAt: T0 + 9, seeded: true })
    expect((await s.rootKeys.pageByWorkspace('ws_1', { cursor: 'rk_a', limit: 5 })).map((k) => k.id)).toEqual(['rk_a', 'rk_b'])
  })

  test('rbac: id wins over an equal slug, search is case-insensitive, effective access is deduplicated and sorted', async () => {
    await s.rbac.insertPermission('ws_1', { id: 'perm_b', name: 'Write', slug: 'perm_a', description: 'Lets you WRITE' }, T0)
    await s.rbac.insertPermission('ws_1', { id: 'perm_a', name: 'Read', slug: 'docs.read' }, T0)
    expect(await s.rbac.findPermission('ws_1', 'perm_a')).toEqual({ id: 'perm_a', name: 'Read', slug: 'docs.read' })
    expect(await s.rbac.listPermissions('ws_1', { limit: 10, search: 'write' })).toEqual({
      items: [{ id: 'perm_b', name: 'Write', slug: 'perm_a', description: 'Lets you WRITE' }],
    })
    expect(await s.rbac.listPermissions('ws_1', { limit: 1 })).toEqual({ items: [{ id: 'perm_a', name: 'Read', slug: 'docs.read' }], cursor: 'perm_b' })
    await s.rbac.insertRole('ws_1', { id: 'role_1', name: 'writer' }, T0)
    await s.rbac.insertRole('ws_1', { id: 'role_2', name: 'admin' }, T0)
    await s.rbac.setRolePermissions('role_1', ['perm_b', 'perm_a'], T0 + 1)
    await s.keys.insert(key('key_1'))
    await s.rbac.addKeyPermissions('key_1', ['perm_a', 'perm_a'])
    await s.rbac.addKeyRoles('key_1', ['role_1', 'role_2'])
    expect(await s.rbac.keyAccess('key_1')).toEqual({ permissions: ['docs.read', 'perm_a'], roles: ['admin', 'writer'] })
    await s.keys.insert(key('key_2'))
    await s.rbac.copyKeyGrants('key_1', 'key_2')
    expect(await s.rbac.keyAccess('key_2')).toEqual({ permissions: ['docs.read', 'perm_a'], roles: ['admin', 'writer'] })
    await s.rbac.removeKeyRoles('key_2', ['role_1'])
    await s.rbac.setKeyPermissions('key_2', [])
    expect(await s.rbac.keyAccess('key_2')).toEqual({ permissions: [], roles: ['admin'] })
    await s.rbac.deletePermission('perm_a')
    expect(await s.rbac.rolePermissions('role_1')).toEqual([{ id: 'perm_b', name: 'Write', slug: 'perm_a', description: 'Lets you WRITE' }])
  })

  test('identities: live by external id, search and id lists', async () => {
    await s.identities.insert({ id: 'id_1', workspaceId: 'ws_1', externalId: 'Customer_A', meta: '{"x":1}', createdAt: T0 })
    await s.identities.insert({ id: 'id_2', workspaceId: 'ws_1', externalId: 'other', meta: null, createdAt: T0 })
    expect(await s.identities.findLiveByExternalId('ws_1', 'Customer_A')).toEqual({
      id: 'id_1',
      workspaceId: 'ws_1',
      externalId: 'Customer_A',
      meta: '{"x":1}',
      createdAt: T0,
      updatedAt: null,
    })
    const list = async (page: { search?: string; ids?: string[] }) =>
      (await s.identities.listLive('ws_1', { cursor: '', limit: 10, search: page.search ?? '', ids: page.ids })).map((i) => i.id)
    expect(await list({ search: 'customer' })).toEqual(['id_1'])
    expect(await list({ ids: ['id_2', 'id_9'] })).toEqual(['id_2'])
    await s.identities.softDelete('id_1', T0 + 1)
    expect(await list({})).toEqual(['id_2'])
    await s.identities.insert({ id: 'id_3', workspaceId: 'ws_1', externalId: 'Customer_A', meta: null, createdAt: T0 })
    expect((await s.identities.findLiveByExternalId('ws_1', 'Customer_A'))!.id).toBe('id_3')
  })

  test('ratelimits: definitions per owner, namespaces and overrides', async () => {
    await s.keys.insert(key('key_1'))
    await s.ratelimitDefinitions.save(
      'ws_1',
      { keyId: 'key_1' },
      {
        insert: [
          { id: 'rl_2', name: 'b', limit: 5, duration: 1000, autoApply: true },
          { id: 'rl_1', name: 'a', limit: 1, duration: 60_000, autoApply: false },
        ],
        update: [],
        remove: [],
      },
      T0,
    )
    expect(await s.ratelimitDefinitions.list({ keyId: 'key_1' })).toEqual([
      { id: 'rl_1', name: 'a', limit: 1, duration: 60_000, autoApply: false },
      { id: 'rl_2', name: 'b', limit: 5, duration: 1000, autoApply: true },
    ])
    await s.ratelimitNamespaces.insertIfAbsent({ id: 'rlns_1', workspaceId: 'ws_1', name: 'api', createdAt: T0 })
    await s.ratelimitNamespaces.insertIfAbsent({ id: 'rlns_2', workspaceId: 'ws_1', name: 'api', createdAt: T0 })
    expect(await s.ratelimitNamespaces.findByName('ws_1', 'api')).toEqual({ id: 'rlns_1', workspaceId: 'ws_1', name: 'api', createdAt: T0, deletedAt: null })
    expect(await s.ratelimitNamespaces.upsertOverride('ws_1', { id: 'rlor_1', namespaceId: 'rlns_1', identifier: 'u*', limit: 3, duration: 10 }, T0)).toBe(
      'rlor_1',
    )
    expect(await s.ratelimitNamespaces.upsertOverride('ws_1', { id: 'rlor_2', namespaceId: 'rlns_1', identifier: 'u*', limit: 4, duration: 20 }, T0)).toBe(
      'rlor_1',
    )
    expect(await s.ratelimitNamespaces.listOverrides('rlns_1')).toEqual([{ id: 'rlor_1', namespaceId: 'rlns_1', identifier: 'u*', limit: 4, duration: 20 }])
    expect(await s.ratelimitNamespaces.pageLive('ws_1', { cursor: '', limit: 5 })).toEqual([{ id: 'rlns_1', name: 'api', createdAt: T0, overrideCount: 1 }])
    expect(await s.ratelimitNamespaces.deleteOverride('rlns_1', 'u*')).toBe('rlor_1')
    expect(await s.ratelimitNamespaces.deleteOverride('rlns_1', 'u*')).toBeNull()
  })

  test('audit log: newest first, filters, cursors only within the workspace, pruning', async () => {
    const event = (id: string, time: number, workspaceId = 'ws_1') => ({
      id,
      time,
      workspaceId,
      event: id === 'evt_3' ? 'key.delete' : 'key.create',
      actor: { type: 'root_key' as const, id: 'rk_1', name: 'ops' },
      resources: [
        { type: 'key', id: 'key_1' },
        { type: 'key', id: 'key_1' },
      ],
      description: id,
      requestId: null,
      remoteAddr: '127.0.0.1',
      userAgent: null,
    })
    for (const [id, time] of [
      ['evt_1', T0],
      ['evt_2', T0],
      ['evt_3', T0 + 1],
    ] as const)
      await s.auditLogs.insert(event(id, time))
    await s.auditLogs.insert(event('evt_x', T0, 'ws_2'))
    const ids = async (q: Partial<Parameters<Stores['auditLogs']['page']>[1]>) =>
      (await s.auditLogs.page('ws_1', { cursor: '', limit: 10, ...q })).map((e) => e.id)
    expect(await ids({})).toEqual(['evt_3', 'evt_2', 'evt_1'])
    expect(await ids({ events: ['key.create'] })).toEqual(['evt_2', 'evt_1'])
    expect(await ids({ resourceId: 'key_1', cursor: 'evt_2' })).toEqual(['evt_2', 'evt_1'])
    expect(await ids({ cursor: 'evt_x' })).toEqual([])
    expect((await s.auditLogs.page('ws_1', { cursor: '', limit: 1 }))[0]).toEqual({ ...event('evt_3', T0 + 1), resources: event('evt_3', 0).resources })
    expect(await s.auditLogs.deleteBefore(T0 + 1, 2)).toBe(2)
    expect(await ids({})).toEqual(['evt_3'])
  })

  test('events: a batch and its rollups in one write; pruning by age', async () => {
    const verification = (time: number, outcome: string, tags: string[]) => ({
      requestId: 'req_1',
      time,
      workspaceId: 'ws_1',
      apiId: 'api_1',
      keyId: 'key_1',
      identityId: null,
      externalId: null,
      outcome,
      tags,
      creditsSpent: 1,
      latency: 0.5,
    })
    await s.verificationEvents.insertMany([verification(T0, 'VALID', []), verification(T0 + 1, 'VALID', []), verification(T0 + 61_000, 'VALID', ['a'])])
    await s.verificationEvents.insertMany([verification(T0 + 2, 'VALID', [])])
    const rows = await s.analytics.query(
      {
        sql:
          engine === 'postgres'
            ? 'SELECT time, count, spent_credits, tags FROM verification_rollups_per_minute WHERE workspace_id = $1 ORDER BY time, tags'
            : 'SELECT time, count, spent_credits, tags FROM verification_rollups_per_minute WHERE workspace_id = ?1 ORDER BY time, tags',
        params: ['ws_1'],
      },
      5_000,
    )
    expect(rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)))).toEqual([
      [T0, 3, 3, '[]'],
      [T0 + 60_000, 1, 1, '["a"]'],
    ])
    expect(await s.verificationEvents.deleteBefore(T0 + 2, 10)).toBe(2)
    expect(await s.analytics.deleteRollupsBefore('verifications', 'minute', T0 + 60_000, 10)).toBe(1)
    await s.ratelimitEvents.insertMany([
      {
        requestId: 'r',
        time: T0,
        workspaceId: 'ws_1',
        namespaceId: 'rlns_1',
        identifier: 'u',
        passed: true,
        latency: 0,
        overrideId: null,
        limit: 5,
        remaining: 4,
        resetAt: T0 + 1,
        tokens: 2,
      },
      {
        requestId: 'r',
        time: T0,
        workspaceId: 'ws_1',
        namespaceId: 'rlns_1',
        identifier: 'u',
        passed: false,
        latency: 0,
        overrideId: null,
        limit: 5,
        remaining: 0,
        resetAt: T0 + 1,
        tokens: 3,
      },
    ])
    expect(await s.ratelimitEvents.deleteBefore(T0 + 1, 1)).toBe(1)
  })

  test('events: pruning by age reaches every workspace, a slice at a time, and nothing newer', async () => {
    // Seconds after T0 and workspaces, interleaved and written out of time order.
    const seconds = [5, 1, 9, 2, 7, 0, 8, 3, 6]
    const workspaces = ['ws_a', 'ws_b', 'ws_c']
    const events = seconds.map((second, i) =>
      verificationEvent({ requestId: `req_${i}`, time: T0 + second * 1000, workspaceId: workspaces[i % 3]!, latency: 0.5 }),
    )
    for (const event of events) await s.verificationEvents.insertMany([event])
    const left = async () =>
      (await s.analytics.query({ sql: 'SELECT workspace_id, time FROM verification_events ORDER BY workspace_id, time', params: [] }, 5_000)).map(
        ([workspace, time]) => [workspace, (Number(time) - T0) / 1000],
      )
    // Older than 5 s: 1 and 3 (ws_b), 2 (ws_a), 0 (ws_c).
    expect(await s.verificationEvents.deleteBefore(T0 + 5_000, 3)).toBe(3)
    expect(await s.verificationEvents.deleteBefore(T0 + 5_000, 3)).toBe(1)
    expect(await s.verificationEvents.deleteBefore(T0 + 5_000, 3)).toBe(0)
    expect(await left()).toEqual([
      ['ws_a', 5],
      ['ws_a', 8],
      ['ws_b', 7],
      ['ws_c', 6],
      ['ws_c', 9],
    ])
    // A workspace with more old rows than a slice: each call goes on where the one before stopped.
    for (let i = 0; i < 5; i++) await s.verificationEvents.insertMany([{ ...events[0]!, requestId: `req_b${i}`, workspaceId: 'ws_b', time: T0 + i }])
    await s.verificationEvents.insertMany([{ ...events[0]!, requestId: 'req_c', workspaceId: 'ws_c', time: T0 }])
    expect(await s.verificationEvents.deleteBefore(T0 + 5_000, 2)).toBe(2)
    expect(await s.verificationEvents.deleteBefore(T0 + 5_000, 2)).toBe(2)
    expect(await s.verificationEvents.deleteBefore(T0 + 5_000, 2)).toBe(2)
    expect(await s.verificationEvents.deleteBefore(T0 + 5_000, 2)).toBe(0)
    expect((await left()).length).toBe(5)
  })
})
