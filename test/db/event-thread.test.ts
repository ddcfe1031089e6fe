// The SQLite server's analytics writer thread (src/db/sqlite/event-thread.ts):
// verification and ratelimit events written by the worker's own connection
// land exactly once with their rollups and last-used times, the request
// thread's connection stops checkpointing, closing waits for what was handed
// over, and a commit by that thread does not pass for another process's
// root-key change.
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { ManualClock } from '../../src/clock'
import { openDatabase } from '../../src/db/sqlite/database'
import { openSqliteStores, type SqliteStores } from '../../src/db/sqlite'
import { PartialBatchError } from '../../src/db/stores/analytics'
import { EventBuffer } from '../../src/modules/analytics/event-buffer'
import { createServices } from '../../src/services'
import { verificationEvent } from '../support/events'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function open(walLimitBytes?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'latch-event-thread-'))
  dirs.push(dir)
  const path = join(dir, 'latch.db')
  const stores = openSqliteStores(path, { eventThread: true, walLimitBytes })
  const clock = new ManualClock(Date.UTC(2026, 5, 15, 12, 0, 0))
  const services = createServices({ stores, clock })
  const app = createApp(services, { log: null })
  const call = async (rpc: string, body: unknown, key: string) => {
    const res = await app.handle(
      new Request(`http://localhost/v2/${rpc}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      }),
    )
    return { status: res.status, body: (await res.json()) as any }
  }
  return { path, stores, services, call, clock }
}

const count = (stores: SqliteStores, sql: string) => (stores.db.query(sql).get() as { n: number }).n

/** `n` verifications of seven keys in turn, a millisecond apart. */
const batch = (n: number) =>
  Array.from({ length: n }, (_, i) => verificationEvent({ requestId: `req_${i}`, time: Date.UTC(2026, 5, 15, 12) + i, keyId: `key_${i % 7}` }))

describe('the analytics writer thread', () => {
  test('writes every verification once, with its rollups and the key’s last use, on its own connection', async () => {
    const { stores, services, call, clock } = open()
    const root = (await services.rootKeys.create({ workspace: 'acme', name: 'root', permissions: ['*'] })).key
    const api = (await call('apis.createApi', { name: 'main' }, root)).body.data.apiId
    const key = (await call('keys.createKey', { apiId: api }, root)).body.data
    expect(stores.db.query('PRAGMA wal_autocheckpoint').get()).toEqual({ wal_autocheckpoint: 0 })
    // The request thread never sleeps inside SQLite waiting for the thread's lock: the engine waits between attempts.
    expect(stores.db.query('PRAGMA busy_timeout').get()).toEqual({ timeout: 0 })
    // More than one transaction's worth (256) in one batch, and an unknown key among them.
    for (let i = 0; i < 600; i++) {
      const { status, body } = await call('keys.verifyKey', { key: i === 599 ? 'nope' : key.key, tags: [`n=${i % 3}`] }, root)
      expect(status).toBe(200)
      expect(body.data.code).toBe(i === 599 ? 'NOT_FOUND' : 'VALID')
    }
    await services.flush()
    expect(count(stores, 'SELECT count(*) AS n FROM verification_events')).toBe(600)
    expect(count(stores, "SELECT count(*) AS n FROM verification_events WHERE outcome = 'VALID'")).toBe(599)
    for (const grain of ['minute', 'hour', 'day', 'month']) {
      expect(count(stores, `SELECT sum(count) AS n FROM verification_rollups_per_${grain}`)).toBe(600)
    }
    expect(stores.db.query('SELECT at FROM key_last_used WHERE key_id = ?').get(key.keyId)).toEqual({ at: clock.now() })
    // And the public query path reads them.
    const rows = await call(
      'analytics.getVerifications',
      { query: 'SELECT outcome, count() AS n FROM key_verifications_v1 GROUP BY outcome ORDER BY outcome' },
      root,
    )
    expect(rows).toEqual({
      status: 200,
      body: {
        meta: { requestId: expect.any(String) },
        data: [
          { outcome: 'NOT_FOUND', n: 1 },
          { outcome: 'VALID', n: 599 },
        ],
      },
    })
    await stores.close()
  })

  test('writes a batch in transactions of up to 1,024 events while no request-thread write waits, each noting the rollups it owes', async () => {
    const { stores } = open()
    await stores.eventWriter.writeVerifications(batch(2_500), [])
    // The rollups are held back, so each transaction's note is still there: 1,024 + 1,024 + 452.
    expect(stores.db.query('SELECT first_id AS first, last_id AS last FROM rollups_owed ORDER BY id').all()).toEqual([
      { first: 1, last: 1_024 },
      { first: 1_025, last: 2_048 },
      { first: 2_049, last: 2_500 },
    ])
    await stores.eventWriter.settle()
    expect(count(stores, 'SELECT count(*) AS n FROM rollups_owed')).toBe(0)
    expect(count(stores, 'SELECT sum(count) AS n FROM verification_rollups_per_day')).toBe(2_500)
    await stores.close()
  })

  test('while the request thread writes, the thread’s transactions are one slice; one of its writes that meets the lock ends a longer one after the slice in hand', async () => {
    const { stores } = open()
    stores.db.exec('CREATE TABLE writes (at INTEGER)')
    const notes = () => (stores.db.query('SELECT last_id - first_id + 1 AS n FROM rollups_owed ORDER BY id').all() as { n: number }[]).map(({ n }) => n)
    const write = () => stores.transaction(async () => void stores.db.query('INSERT INTO writes VALUES (1)').run())
    /** Writes `events` while the request thread writes, `gapMs` apart, until they are written; returns how many writes. */
    const writeWhileWriting = async (events: number, gapMs: number) => {
      let done = false
      const written = stores.eventWriter.writeVerifications(batch(events), []).finally(() => (done = true))
      let writes = 0
      while (!done) {
        await write()
        writes++
        if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs))
      }
      await written
      return writes
    }

    // One write after another (each waits for its commit to be synced): most transactions are one slice.
    let writes = await writeWhileWriting(16_384, 0)
    const back = notes()
    expect(back.reduce((sum, n) => sum + n, 0)).toBe(16_384)
    expect(back.every((n) => n <= 1_024)).toBe(true)
    expect(back.filter((n) => n === 128).length).toBeGreaterThan(back.length / 2)
    await stores.eventWriter.settle()

    // Writes a few milliseconds apart: some meet a transaction of several slices, which ends after the slice in hand.
    writes += await writeWhileWriting(65_536, 4)
    const apart = notes()
    expect(apart.reduce((sum, n) => sum + n, 0)).toBe(65_536)
    expect(apart.every((n) => n <= 1_024)).toBe(true)
    expect(apart.slice(0, -1).some((n) => n > 128 && n < 1_024)).toBe(true)
    expect(count(stores, 'SELECT count(*) AS n FROM writes')).toBe(writes)
    await stores.close()
  }, 30_000)

  test('rollups whose timed write failed are tried again by the thread’s own timer, with no batch or flush to prompt it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latch-event-thread-'))
    dirs.push(dir)
    const path = join(dir, 'latch.db')
    const stores = openSqliteStores(path, { eventThread: true, busyDeadlineMs: 300 })
    const other = openDatabase(path)
    await stores.eventWriter.writeVerifications(
      Array.from({ length: 10 }, (_, i) => verificationEvent({ requestId: `req_${i}`, time: Date.UTC(2026, 5, 15, 12) })),
      [],
    )
    // Another process holds the write lock past the thread's one-second timer and its 300 ms deadline.
    other.exec('BEGIN IMMEDIATE')
    await new Promise((resolve) => setTimeout(resolve, 1_800))
    other.exec('COMMIT')
    const counts = () =>
      other.query('SELECT (SELECT coalesce(sum(count), 0) FROM verification_rollups_per_minute) AS minute, (SELECT count(*) FROM rollups_owed) AS owed').get()
    const deadline = Date.now() + 5_000
    while (JSON.stringify(counts()) !== JSON.stringify({ minute: 10, owed: 0 }) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100))
    expect(counts()).toEqual({ minute: 10, owed: 0 })
    other.close()
    await stores.close()
  }, 15_000)

  test('writes last-used times of more keys than one turn serialises (256), each with its own time', async () => {
    const { stores, services, call, clock } = open()
    const root = (await services.rootKeys.create({ workspace: 'acme', name: 'root', permissions: ['*'] })).key
    const api = (await call('apis.createApi', { name: 'main' }, root)).body.data.apiId
    const ids: string[] = []
    for (let i = 0; i < 600; i++) ids.push((await call('keys.createKey', { apiId: api }, root)).body.data.keyId)
    const at = (i: number) => clock.now() + 1_000 + i
    await stores.eventWriter.writeVerifications(
      [],
      ids.map((id, i) => [id, at(i)]),
    )
    const stored = stores.db.query('SELECT key_id, at FROM key_last_used').all() as { key_id: string; at: number }[]
    expect(new Map(stored.map((r) => [r.key_id, r.at]))).toEqual(new Map(ids.map((id, i) => [id, at(i)])))
    await stores.close()
  })

  test('writes ratelimit decisions, and close waits for batches handed over before it', async () => {
    const { path, stores, services, call } = open()
    const root = (await services.rootKeys.create({ workspace: 'acme', name: 'root', permissions: ['*'] })).key
    for (let i = 0; i < 10; i++) {
      const { status, body } = await call('ratelimit.limit', { namespace: 'api', identifier: 'user', limit: 5, duration: 60_000 }, root)
      expect(status).toBe(200)
      expect(body.data.success).toBe(i < 5)
    }
    // Handed to the thread at once (no await before the batch is posted), then closed.
    const written = services.ratelimitEvents.flush()
    await stores.close()
    await written
    const db = openDatabase(path)
    expect(db.query('SELECT count(*) AS n, sum(passed) AS passed FROM ratelimit_events').get()).toEqual({ n: 10, passed: 5 })
    expect(db.query('SELECT sum(total) AS total, sum(passed) AS passed FROM ratelimit_rollups_per_day').get()).toEqual({ total: 10, passed: 5 })
    db.close()
  })

  test('a batch still being serialised in turns when close is called is written before the thread ends', async () => {
    const { path, stores } = open()
    const events = Array.from({ length: 1_000 }, (_, i) => ({
      requestId: `req_${i}`,
      time: Date.UTC(2026, 5, 15, 12, 0, 0) + i,
      workspaceId: 'ws_1',
      namespaceId: 'rlns_1',
      identifier: `user_${i % 10}`,
      passed: i % 2 === 0,
      latency: 0.1,
      overrideId: null,
      limit: 10,
      remaining: 1,
      resetAt: 0,
      tokens: 1,
    }))
    const written = stores.eventWriter.writeRatelimits(events)
    await stores.close()
    await written
    const db = openDatabase(path)
    expect(db.query('SELECT count(*) AS n, sum(passed) AS passed FROM ratelimit_events').get()).toEqual({ n: 1_000, passed: 500 })
    expect(db.query('SELECT sum(total) AS total FROM ratelimit_rollups_per_minute').get()).toEqual({ total: 1_000 })
    db.close()
  })

  test('its commits do not drop the root-key cache; another connection changing root keys does', async () => {
    const { path, stores, services, call } = open()
    const root = (await services.rootKeys.create({ workspace: 'acme', name: 'root', permissions: ['*'] })).key
    const before = stores.externalVersion()
    const api = (await call('apis.createApi', { name: 'main' }, root)).body.data.apiId
    const key = (await call('keys.createKey', { apiId: api }, root)).body.data.key
    for (let i = 0; i < 5; i++) await call('keys.verifyKey', { key }, root)
    await services.flush()
    expect(count(stores, 'SELECT count(*) AS n FROM verification_events')).toBe(5)
    expect(stores.externalVersion()).toBe(before)
    // Another process (the CLI) revokes the root key: the server sees it at once.
    const other = openDatabase(path)
    other.query('UPDATE root_keys SET revoked_at = 1').run()
    other.close()
    expect(stores.externalVersion()).not.toBe(before)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await call('apis.getApi', { apiId: api }, root)).status).toBe(401)
    await stores.close()
  })
})

describe('the write-ahead log', () => {
  test('is checkpointed by the thread and cut back to its limit once no reader holds it', async () => {
    const limit = 256 * 1024
    const { path, stores } = open(limit)
    const event = (i: number) =>
      verificationEvent({ requestId: `req_${i}`, time: Date.UTC(2026, 5, 15, 12) + i, keyId: `key_${i}`, tags: [`tag ${'x'.repeat(100)} ${i}`] })
    // A reader on an old snapshot: no checkpoint can pass it, so the log grows past the limit.
    const reader = openDatabase(path)
    reader.exec('BEGIN')
    reader.query('SELECT count(*) FROM verification_events').get()
    await stores.eventWriter.writeVerifications(
      Array.from({ length: 4_000 }, (_, i) => event(i)),
      [],
    )
    const walSize = () => statSync(`${path}-wal`).size
    expect(walSize()).toBeGreaterThan(limit)
    reader.exec('COMMIT')
    reader.close()
    // The thread's next checkpoint (once a second) restarts the log; the next batch starts it over, cut back.
    await new Promise((resolve) => setTimeout(resolve, 2_200))
    await stores.eventWriter.writeVerifications([event(4_000)], [])
    expect(walSize()).toBeLessThanOrEqual(limit)
    expect(count(stores, 'SELECT count(*) AS n FROM verification_events')).toBe(4_001)
    await stores.close()
  })
})

describe('early writes', () => {
  test('a buffer reaching writeAt is written at once, marked early; a flush meanwhile waits for it and writes in full', async () => {
    const writes: { events: number[]; early: boolean }[] = []
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const buffer = new EventBuffer<number>(
      'numbers',
      async (events, early) => {
        writes.push({ events, early })
        if (early) await held
      },
      { maxBuffered: 100, writeAt: 3, onError: () => {} },
      () => true,
    )
    for (let i = 0; i < 4; i++) buffer.push(i)
    expect(writes).toEqual([{ events: [0, 1, 2], early: true }])
    const flushed = buffer.flush()
    buffer.push(4)
    release()
    await flushed
    expect(writes).toEqual([
      { events: [0, 1, 2], early: true },
      { events: [3, 4], early: false },
    ])
  })

  test('verification batches written early leave the keys’ last-used times to the next full write', async () => {
    const { stores, services, call, clock } = open()
    const root = (await services.rootKeys.create({ workspace: 'acme', name: 'root', permissions: ['*'] })).key
    const api = (await call('apis.createApi', { name: 'main' }, root)).body.data.apiId
    const key = (await call('keys.createKey', { apiId: api }, root)).body.data
    // More than an early write's worth (512): one goes out while the loop runs, without the last use.
    for (let i = 0; i < 600; i++) await call('keys.verifyKey', { key: key.key }, root)
    for (let waited = 0; count(stores, 'SELECT count(*) AS n FROM verification_events') < 512 && waited < 5_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(count(stores, 'SELECT count(*) AS n FROM verification_events')).toBeGreaterThanOrEqual(512)
    expect(stores.db.query('SELECT at FROM key_last_used WHERE key_id = ?').get(key.keyId)).toBeNull()
    await services.flush()
    expect(count(stores, 'SELECT count(*) AS n FROM verification_events')).toBe(600)
    expect(stores.db.query('SELECT at FROM key_last_used WHERE key_id = ?').get(key.keyId)).toEqual({ at: clock.now() })
    await stores.close()
  })
})

describe('a batch that fails part-way', () => {
  test('is written again only from the first event that did not commit', async () => {
    const batches: number[][] = []
    let fail = true
    const buffer = new EventBuffer<number>(
      'numbers',
      async (events) => {
        batches.push(events)
        if (fail) {
          fail = false
          throw new PartialBatchError('lost the lock', 3)
        }
      },
      { onError: () => {} },
    )
    for (let i = 0; i < 5; i++) buffer.push(i)
    await expect(buffer.flush()).rejects.toThrow('lost the lock')
    buffer.push(5)
    await buffer.flush()
    expect(batches).toEqual([
      [0, 1, 2, 3, 4],
      [3, 4, 5],
    ])
  })
})
