// Rollups written after their raw rows (src/db/sqlite/owed-rollups.ts): held
// back by the analytics writer thread and written a grain at a time, or
// rebuilt from the raw rows when a crash came first, they must equal what
// writing each batch with its rollups (`insertMany`) gives.
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqliteStores, type SqliteStores } from '../../src/db/sqlite'
import { SqliteEngine } from '../../src/db/sqlite/engine'
import { HeldRollups, OwedRollups } from '../../src/db/sqlite/owed-rollups'
import type { RatelimitEvent, VerificationEvent } from '../../src/db/stores/analytics'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'latch-owed-rollups-'))
  dirs.push(dir)
  return join(dir, 'latch.db')
}

// Across minute, hour, day and month boundaries, with repeated and distinct grouping keys.
const START = Date.UTC(2026, 0, 31, 23, 58, 30)
const verifications: VerificationEvent[] = Array.from({ length: 700 }, (_, i) => ({
  requestId: `req_${i}`,
  time: START + i * 997,
  workspaceId: i % 5 === 0 ? 'ws_2' : 'ws_1',
  apiId: i % 11 === 0 ? null : `api_${i % 2}`,
  keyId: i % 11 === 0 ? null : `key_${i % 7}`,
  identityId: i % 3 === 0 ? `id_${i % 2}` : null,
  externalId: i % 3 === 0 ? `user_${i % 2}` : null,
  outcome: i % 11 === 0 ? 'NOT_FOUND' : i % 4 === 0 ? 'RATE_LIMITED' : 'VALID',
  tags: i % 6 === 0 ? [] : [`n=${i % 3}`],
  creditsSpent: i % 2,
  latency: 0.5,
}))
const ratelimits: RatelimitEvent[] = Array.from({ length: 300 }, (_, i) => ({
  requestId: `req_r${i}`,
  time: START + i * 2_311,
  workspaceId: 'ws_1',
  namespaceId: `rlns_${i % 2}`,
  identifier: `user_${i % 9}`,
  passed: i % 3 !== 0,
  latency: 0.1,
  overrideId: null,
  limit: 10,
  remaining: 3,
  resetAt: START + 60_000,
  tokens: 1 + (i % 4),
}))

const ROLLUPS = ['verification', 'ratelimit'].flatMap((kind) => ['minute', 'hour', 'day', 'month'].map((grain) => `${kind}_rollups_per_${grain}`))

/** Every rollup table's rows, in one order. */
function rollups(stores: SqliteStores): Record<string, unknown[]> {
  return Object.fromEntries(ROLLUPS.map((table) => [table, stores.db.query(`SELECT * FROM ${table} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`).all()]))
}

const owedRows = (stores: SqliteStores) => stores.db.query('SELECT kind, grains_done FROM rollups_owed ORDER BY id').all()

/** The rollups of every event written with its batch, as the request thread writes them. */
async function reference(): Promise<Record<string, unknown[]>> {
  const stores = openSqliteStores(file())
  await stores.verificationEvents.insertMany(verifications)
  await stores.ratelimitEvents.insertMany(ratelimits)
  const rows = rollups(stores)
  await stores.close()
  return rows
}

/** Raw rows in slices as the writer thread commits them, each noting what it owes; returns the notes. */
async function writeRaw(stores: SqliteStores, owed: OwedRollups, sql: SqliteEngine) {
  const held = {
    verifications: new HeldRollups(sql, owed, stores.verificationEvents.rollups),
    ratelimits: new HeldRollups(sql, owed, stores.ratelimitEvents.rollups),
  }
  for (const [kind, events] of [
    ['verifications', verifications],
    ['ratelimits', ratelimits],
  ] as const) {
    const store = kind === 'verifications' ? stores.verificationEvents : stores.ratelimitEvents
    for (let from = 0; from < events.length; from += 128) {
      const slice = events.slice(from, from + 128)
      const note = await sql.transaction(async () => {
        const [first, last] = (await (store as typeof stores.verificationEvents).insertRaw(slice as VerificationEvent[]))!
        return owed.note(kind, first, last)
      })
      ;(held[kind] as HeldRollups<unknown>).add(slice, note)
    }
  }
  return held
}

/** The reference rollups, and a database at `path` whose raw rows are written and whose rollups are held. */
async function rawWritten(path: string) {
  const expected = await reference()
  const stores = openSqliteStores(path)
  const sql = new SqliteEngine(stores.db)
  const held = await writeRaw(stores, new OwedRollups(sql), sql)
  return { expected, stores, sql, held }
}

describe('rollups written after their raw rows', () => {
  test('equal the rollups of each batch written with it, and leave nothing owed', async () => {
    const { expected, stores, held } = await rawWritten(file())
    expect(owedRows(stores)).toHaveLength(6 + 3)
    expect(stores.db.query('SELECT count(*) AS n FROM verification_rollups_per_minute').get()).toEqual({ n: 0 })
    // Fewer rollup rows held than events: that is the point.
    expect(held.verifications.size).toBeLessThan(verifications.length)
    await held.verifications.write()
    await held.ratelimits.write()
    expect(rollups(stores)).toEqual(expected)
    expect(owedRows(stores)).toEqual([])
    await stores.close()
  })

  test('raw rows: the same as written with their rollups, in order, and the ids noted are theirs', async () => {
    const path = file()
    const reference = openSqliteStores(file())
    await reference.verificationEvents.insertMany(verifications)
    await reference.ratelimitEvents.insertMany(ratelimits)
    const stores = openSqliteStores(path)
    const sql = new SqliteEngine(stores.db)
    const owed = new OwedRollups(sql)
    // Slices of 128, 32 rows a statement: 700 = 5 × 128 + 60 leaves 28 rows written one by one.
    await writeRaw(stores, owed, sql)
    for (const table of ['verification_events', 'ratelimit_events']) {
      const rows = (db: SqliteStores) => db.db.query(`SELECT * FROM ${table} ORDER BY id`).all()
      expect(rows(stores)).toEqual(rows(reference))
    }
    const notes = stores.db.query('SELECT kind, first_id AS first, last_id AS last FROM rollups_owed ORDER BY id').all()
    expect(notes).toEqual([
      ...[0, 128, 256, 384, 512, 640].map((from) => ({ kind: 'verifications', first: from + 1, last: Math.min(from + 128, 700) })),
      ...[0, 128, 256].map((from) => ({ kind: 'ratelimits', first: from + 1, last: Math.min(from + 128, 300) })),
    ])
    await reference.close()
    await stores.close()
  })

  test("pausing while writing (the writer thread's breather) changes nothing written", async () => {
    const { expected, stores, held } = await rawWritten(file())
    let pauses = 0
    await held.verifications.write(() => pauses++, 7)
    // One pause after every 7 rows of a grain (each grain's table was empty), and one after each grain.
    const rows = ['minute', 'hour', 'day', 'month'].map(
      (grain) => (stores.db.query(`SELECT count(*) AS n FROM verification_rollups_per_${grain}`).get() as { n: number }).n,
    )
    expect(rows.every((n) => n > 7)).toBe(true)
    expect(pauses).toBe(rows.reduce((sum, n) => sum + Math.floor(n / 7) + 1, 0))
    await held.ratelimits.write(() => pauses++, 7)
    expect(rollups(stores)).toEqual(expected)
    expect(owedRows(stores)).toEqual([])
    await stores.close()
  })

  test('a grain whose write failed stays held beside the events added after it: each grain counts every event once', async () => {
    const expected = await reference()
    const stores = openSqliteStores(file())
    const sql = new SqliteEngine(stores.db)
    const owed = new OwedRollups(sql)
    const held = new HeldRollups(sql, owed, stores.verificationEvents.rollups)
    const addRaw = async (events: VerificationEvent[]) => {
      for (let from = 0; from < events.length; from += 128) {
        const slice = events.slice(from, from + 128)
        const note = await sql.transaction(async () => {
          const [first, last] = (await stores.verificationEvents.insertRaw(slice))!
          return owed.note('verifications', first, last)
        })
        held.add(slice, note)
      }
    }
    await addRaw(verifications.slice(0, 300))
    // The minute grain commits; the hour grain's transaction fails, and the day and month grains are not reached.
    const transaction = sql.transaction.bind(sql)
    let commits = 0
    sql.transaction = (work) => (++commits === 2 ? Promise.reject(new Error('busy')) : transaction(work))
    await expect(held.write()).rejects.toThrow('busy')
    sql.transaction = transaction
    await addRaw(verifications.slice(300))
    await held.write()
    await stores.ratelimitEvents.insertMany(ratelimits)
    expect(rollups(stores)).toEqual(expected)
    expect(owedRows(stores)).toEqual([])
    await stores.close()
  })

  test('a crash between grains: the next start rebuilds exactly the grains still owed', async () => {
    const path = file()
    const { expected, stores, sql, held } = await rawWritten(path)
    // The minute and hour rollups of verifications commit; the process dies before the day's.
    const transaction = sql.transaction.bind(sql)
    let commits = 0
    sql.transaction = (work) => (++commits > 2 ? Promise.reject(new Error('killed')) : transaction(work))
    await expect(held.verifications.write()).rejects.toThrow('killed')
    expect(owedRows(stores)).toEqual([
      ...Array(6).fill({ kind: 'verifications', grains_done: 0b0011 }),
      ...Array(3).fill({ kind: 'ratelimits', grains_done: 0 }),
    ])
    await stores.close()

    // A server's writer thread rebuilds what is owed when it opens the file.
    const server = openSqliteStores(path, { eventThread: true })
    await server.eventWriter.writeRatelimits([])
    expect(rollups(server)).toEqual(expected)
    expect(owedRows(server)).toEqual([])
    await server.close()
  })

  test('through the writer thread: held back, then written when settled, equal to the reference', async () => {
    const expected = await reference()
    const stores = openSqliteStores(file(), { eventThread: true })
    for (let from = 0; from < verifications.length; from += 300) await stores.eventWriter.writeVerifications(verifications.slice(from, from + 300), [])
    await stores.eventWriter.writeRatelimits(ratelimits)
    expect(stores.db.query('SELECT count(*) AS n FROM verification_events').get()).toEqual({ n: verifications.length })
    await stores.eventWriter.settle()
    expect(rollups(stores)).toEqual(expected)
    expect(owedRows(stores)).toEqual([])
    await stores.close()
  })
})
