// A database slower than the requests: verification events (and ratelimit
// decisions) never pile up without bound. Once ten buffers' worth wait behind
// a write in progress, the next answers wait for it (no event dropped); when
// the write fails instead, nobody waits (the oldest events go, as before).
// The slow database is real: another connection holds SQLite's write lock.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, handler } from '../../../src/app'
import { ManualClock } from '../../../src/clock'
import { openSqliteStores, type SqliteStores } from '../../../src/db/sqlite'
import { createServices, type Services } from '../../../src/services'

/** verificationEventBuffer: so ten buffers' worth is 50 events. */
const BUFFER = 5
const BOUND = BUFFER * 10

let dir: string
let dbPath: string
let stores: SqliteStores
let services: Services
let handle: (request: Request) => Response | Promise<Response>
let root: string
let apiId: string

const post = async (rpc: string, body: unknown) => {
  const res = await handle(
    new Request(`http://localhost/v2/${rpc}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
      body: JSON.stringify(body),
    }),
  )
  return { status: res.status, body: (await res.json()) as any }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const stored = (table: string) => (stores.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n

function open(busyDeadlineMs: number) {
  stores = openSqliteStores(dbPath, { busyDeadlineMs })
  services = createServices({ stores, clock: new ManualClock(Date.UTC(2026, 5, 15)), tunables: { verificationEventBuffer: BUFFER } })
  handle = handler(createApp(services, { log: null, logError: () => {} }))
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'latch-backlog-'))
  dbPath = join(dir, 'latch.db')
})
afterEach(async () => {
  try {
    await services.flush()
    stores.close()
  } catch {}
  rmSync(dir, { recursive: true, force: true })
})

async function setUp(busyDeadlineMs: number) {
  open(busyDeadlineMs)
  root = (await services.rootKeys.create({ workspace: 'ws', name: 'root', permissions: ['*'] })).key
  apiId = (await post('apis.createApi', { name: 'main' })).body.data.apiId
  const { key } = (await post('keys.createKey', { apiId, ratelimits: [{ name: 'calls', limit: 1_000, duration: 60_000, autoApply: true }] })).body.data
  // Warm: the key is cached, and what these calls wrote is out of the way.
  await post('keys.verifyKey', { key })
  await services.flush()
  return key as string
}

/** How many answered once the count has stopped moving for 200 ms (at most 5 s): those that did not wait. */
async function settledCount(progress: { answered: number }): Promise<number> {
  const deadline = Date.now() + 5_000
  let seen = -1
  while (progress.answered !== seen && Date.now() < deadline) {
    seen = progress.answered
    await sleep(200)
  }
  return progress.answered
}

/**
 * Starts `n` calls at once while another connection holds SQLite's write lock; releases it once
 * the answers stop coming. Returns how many had answered by then, and every answer.
 */
async function callsUnderLock(n: number, call: (i: number) => ReturnType<typeof post>) {
  const other = new Database(dbPath)
  other.exec('BEGIN IMMEDIATE')
  const progress = { answered: 0 }
  const all = Promise.all(
    Array.from({ length: n }, (_, i) =>
      call(i).then((answer) => {
        progress.answered++
        return answer
      }),
    ),
  )
  let answeredWhileLocked: number
  try {
    answeredWhileLocked = await settledCount(progress)
  } finally {
    other.exec('ROLLBACK')
    other.close()
  }
  return { answeredWhileLocked, answers: await all }
}

describe('the event backlog is bounded', () => {
  test('past ten buffers behind a slow write, answers wait for it; every event is written', async () => {
    const key = await setUp(10_000)
    const events = stored('verification_events')
    const decisions = stored('ratelimit_events')
    const { answeredWhileLocked, answers } = await callsUnderLock(BOUND * 3, () => post('keys.verifyKey', { key }))
    // The first write waits for the lock; the answers after the bound wait for that write.
    expect(answeredWhileLocked).toBeGreaterThanOrEqual(BOUND)
    expect(answeredWhileLocked).toBeLessThan(BOUND * 3)
    expect(answers.map((a) => [a.status, a.body.data.code])).toEqual(Array.from({ length: BOUND * 3 }, () => [200, 'VALID']))
    await services.flush()
    expect(stored('verification_events') - events).toBe(BOUND * 3)
    expect(stored('ratelimit_events') - decisions).toBe(BOUND * 3)
  })

  test('ratelimit.limit waits the same way', async () => {
    await setUp(10_000)
    await post('ratelimit.limit', { namespace: 'api', identifier: 'warm', limit: 10, duration: 60_000 })
    await services.flush()
    const decisions = stored('ratelimit_events')
    const { answeredWhileLocked, answers } = await callsUnderLock(BOUND * 3, (i) =>
      post('ratelimit.limit', { namespace: 'api', identifier: `user_${i}`, limit: 10, duration: 60_000 }),
    )
    expect(answeredWhileLocked).toBeGreaterThanOrEqual(BOUND)
    expect(answeredWhileLocked).toBeLessThan(BOUND * 3)
    expect(answers.every((a) => a.status === 200 && a.body.data.success === true)).toBe(true)
    await services.flush()
    expect(stored('ratelimit_events') - decisions).toBe(BOUND * 3)
  })

  test('a write that fails releases the waiting answers: the database being down never stops verification', async () => {
    const key = await setUp(200)
    const other = new Database(dbPath)
    other.exec('BEGIN IMMEDIATE')
    // Every write gives up after 200 ms; the answers do not wait for the lock to go.
    const answers = await Promise.all(Array.from({ length: BOUND * 3 }, () => post('keys.verifyKey', { key })))
    expect(answers.every((a) => a.status === 200 && a.body.data.valid === true)).toBe(true)
    other.exec('ROLLBACK')
    other.close()
  })
})
